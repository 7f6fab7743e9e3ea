"""The bench settings' URLconf: hjp's own, plus the bare view (never in production's URLs)."""

from django.urls import path

from bench.views import bare
from hjp.urls import urlpatterns as hjp_urlpatterns

urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *hjp_urlpatterns]

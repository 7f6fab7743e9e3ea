"""Open Referral UK's public endpoints (HSDA paths), outside casework's signed-in pages."""

from django.urls import path

from casework.views import open_referral

app_name = "oruk"

urlpatterns = [path("services/", open_referral.services, name="services")]

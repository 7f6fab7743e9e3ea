"""The partnership's advice services as Open Referral UK JSON, for councils' service finders: public, no sign-in,
no patient data (casework.oruk)."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from casework import oruk


@login_not_required
@require_GET
@cache_control(public=True, max_age=3600)
def services(request):
    return JsonResponse(oruk.partnership_services(base_url=request.build_absolute_uri(reverse("home"))))

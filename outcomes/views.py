from datetime import timedelta

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from outcomes import permissions, selectors


def _period(request) -> selectors.Period:
    today = timezone.localdate()
    return selectors.Period(start=today - timedelta(days=365), end=today)


def _choose(request, partnerships, *, funder_report=False):
    partnerships = list(partnerships)
    if not partnerships:
        raise Http404("You have no partnership to report on.")
    chosen = request.GET.get("partnership")
    if chosen:
        return partnerships, permissions.get_partnership_for(request.user, chosen, funder_report=funder_report)
    return partnerships, partnerships[0]


def dashboard(request):
    partnerships, partnership = _choose(request, permissions.dashboard_partnerships(request.user))
    period = _period(request)
    return render(
        request,
        "outcomes/dashboard.html",
        {"partnerships": partnerships, "partnership": partnership, "period": period,
         "summary": selectors.referral_summary(partnership=partnership, period=period)},
    )


def funder_report(request):
    partnerships, partnership = _choose(request, permissions.report_partnerships(request.user), funder_report=True)
    period = _period(request)
    summary = selectors.referral_summary(partnership=partnership, period=period)
    return render(
        request,
        "outcomes/funder_report.html",
        {"partnerships": partnerships, "partnership": partnership, "period": period, "summary": summary},
    )

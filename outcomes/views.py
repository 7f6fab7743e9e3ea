"""Managers' dashboard and funders' report: aggregates for one partnership and period, never patient details."""

import csv

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.text import slugify

from hjp.accounts.roles import FUNDERS, MANAGERS, role_required
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.forms import error_summary
from outcomes import permissions, selectors
from outcomes.forms import PeriodForm


def _choose(request, partnerships, *, funder_report=False):
    partnerships = list(partnerships)
    if not partnerships:
        raise Http404("You have no partnership to report on.")
    chosen = request.GET.get("partnership")
    if chosen:
        return partnerships, permissions.get_partnership_for(request.user, chosen, funder_report=funder_report)
    return partnerships, partnerships[0]


def _page_context(request, partnerships, partnership) -> dict:
    form = PeriodForm(request.GET)
    period = form.period
    summary = selectors.partnership_summary(partnership=partnership, period=period)
    return {"partnerships": partnerships, "partnership": partnership, "form": form, "errors": error_summary(form),
            "period": period, "summary": summary}


@role_required(MANAGERS, message="You have no partnership to report on.")
def dashboard(request):
    partnerships, partnership = _choose(request, permissions.dashboard_partnerships(request.user))
    context = _page_context(request, partnerships, partnership)
    context["chart_data"] = selectors.chart_data(context["summary"])
    return render(request, "outcomes/dashboard.html", context)


@role_required(MANAGERS, FUNDERS, message="You have no partnership to report on.")
def funder_report(request):
    partnerships, partnership = _choose(request, permissions.report_partnerships(request.user), funder_report=True)
    context = _page_context(request, partnerships, partnership)
    context["rows"] = selectors.funder_report_rows(context["summary"])
    return render(request, "outcomes/funder_report.html", context)


@role_required(MANAGERS, FUNDERS, message="You have no partnership to report on.")
def funder_report_csv(request):
    _, partnership = _choose(request, permissions.report_partnerships(request.user), funder_report=True)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        problems = " ".join(item["message"] for item in error_summary(form))
        return HttpResponseBadRequest(f"The period is not valid: {problems}", content_type="text/plain; charset=utf-8")
    period = form.period
    rows = selectors.funder_report_rows(selectors.partnership_summary(partnership=partnership, period=period))
    audit_record(actor=request.user, action=AuditEvent.Action.EXPORT, obj=partnership,
                 summary=f"funder report CSV, {period}", request=request)
    filename = f"funder-report-{slugify(partnership.name)}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    writer = csv.writer(response)
    writer.writerow(selectors.FUNDER_CSV_COLUMNS)
    writer.writerows(selectors.funder_report_csv_rows(partnership=partnership, period=period, rows=rows))
    return response

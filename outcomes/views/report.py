"""Funders' report and its CSV: the dashboard's figures through the disclosure method, never patient details."""

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.text import slugify

from hjp.accounts.roles import FUNDERS, MANAGERS, role_required
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.csv_export import csv_response
from hjp.core.db_routers import reads_from_replica
from hjp.core.forms import error_summary
from outcomes import disclosure, permissions
from outcomes.forms import PeriodForm
from outcomes.report import FUNDER_CSV_COLUMNS, funder_report_csv_rows, funder_report_rows
from outcomes.selectors.case_studies import report_case_studies
from outcomes.selectors.dashboard import partnership_summary
from outcomes.views.dashboard import choose_partnership, summary_context


@role_required(MANAGERS, FUNDERS, message="You have no partnership to report on.")
@reads_from_replica  # after the role gate, which reads the memberships from the primary
def funder_report(request):
    partnerships, partnership = choose_partnership(
        request, permissions.report_partnerships(request.user), funder_report=True
    )
    context = summary_context(request, partnerships, partnership)
    context["rows"] = funder_report_rows(context["summary"])
    context["disclosure_method"] = disclosure.METHOD
    context["case_studies"] = report_case_studies(partnership=partnership)
    return render(request, "outcomes/funder_report.html", context)


@role_required(MANAGERS, FUNDERS, message="You have no partnership to report on.")
@reads_from_replica  # after the role gate, which reads the memberships from the primary
def funder_report_csv(request):
    _, partnership = choose_partnership(request, permissions.report_partnerships(request.user), funder_report=True)
    form = PeriodForm(request.GET, partnership=partnership)
    if not form.is_valid():
        problems = " ".join(item["message"] for item in error_summary(form))
        return HttpResponseBadRequest(f"The period is not valid: {problems}", content_type="text/plain; charset=utf-8")
    period = form.dates
    rows = funder_report_rows(partnership_summary(partnership=partnership, period=period))
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=partnership,
        summary=f"funder report CSV, {form.fixed_period}: {period}",
    )
    filename = f"funder-report-{slugify(partnership.name)}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return csv_response(
        filename=filename,
        header=FUNDER_CSV_COLUMNS,
        rows=funder_report_csv_rows(partnership=partnership, period=period, rows=rows),
    )

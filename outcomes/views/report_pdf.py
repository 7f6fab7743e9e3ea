"""The funders' report as a PDF: the printable report's figures (the same context and rows, through the same
disclosure method), with charts drawn on the server as SVG, branded with the partnership's name."""

from django.http import HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from hjp.accounts.roles import FUNDERS, MANAGERS, role_required
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.dates import format_date
from hjp.core.db_routers import reads_from_replica
from outcomes import disclosure, permissions
from outcomes.pdf import html_to_pdf
from outcomes.report import funder_report_charts, funder_report_headline, funder_report_rows
from outcomes.selectors.case_studies import report_case_studies
from outcomes.views.dashboard import choose_partnership, summary_context


@role_required(MANAGERS, FUNDERS, message="You have no partnership to report on.")
@reads_from_replica  # after the role gate, which reads the memberships from the primary
def funder_report_pdf(request):
    partnerships, partnership = choose_partnership(
        request, permissions.report_partnerships(request.user), funder_report=True
    )
    context = summary_context(request, partnerships, partnership)
    if context["errors"]:
        problems = " ".join(item["message"] for item in context["errors"])
        return HttpResponseBadRequest(f"The period is not valid: {problems}", content_type="text/plain; charset=utf-8")
    rows = funder_report_rows(context["summary"])
    period = context["period"]
    context |= {
        "rows": rows,
        "headline": funder_report_headline(rows),
        "charts": funder_report_charts(context["summary"]),
        "disclosure_method": disclosure.METHOD,
        "produced_on": format_date(timezone.localdate()),
        # The stories a manager included, as on the printable report.
        "case_studies": report_case_studies(partnership=partnership),
    }
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=partnership,
        summary=f"funder report PDF, {context['fixed_period']}: {period}",
    )
    pdf = html_to_pdf(render_to_string("outcomes/funder_report_pdf.html", context, request=request))
    filename = (
        f"funder-report-{slugify(partnership.name) or 'partnership'}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

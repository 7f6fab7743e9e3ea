"""The referrer's survey page (reached from an outcome report in their inbox) and the advice service's page of
results. Neither shows patient details; the results page is audited, since referrers' comments are free text."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from hjp.accounts.roles import ADVICE_WORKERS, MANAGERS, REFERRERS, role_required
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.formpage import submit_form
from hjp.core.forms import error_summary
from outcomes.disclosure import METHOD
from outcomes.staff_survey import permissions, selectors, services
from outcomes.staff_survey.forms import StaffSurveyForm

RECEIVED = "Your answer about this outcome report has been received already. Thank you."


@require_http_methods(["GET", "POST"])
@role_required(REFERRERS, message="No such outcome report.")
def staff_survey(request, message_pk):
    user = request.user
    report = selectors.get_outcome_report_for_survey(user, message_pk)
    if report.answered:
        if request.method == "POST":
            messages.info(request, RECEIVED)
            return redirect("notifications:detail", pk=report.pk)
        return render(request, "outcomes/staff_survey/answered.html", {"report": report})
    form = StaffSurveyForm(request.POST or None)
    submission = submit_form(
        request, form, lambda data: services.staff_survey_answer(outcome_report=report, actor=user, **data)
    )
    if submission.saved:
        messages.success(request, "Thank you: your answer is received. The advice service reads it with others'.")
        return redirect("notifications:detail", pk=report.pk)
    return render(
        request,
        "outcomes/staff_survey/form.html",
        {"form": form, "report": report, "errors": error_summary(form)},
        status=400 if request.method == "POST" else 200,
    )


@role_required(ADVICE_WORKERS, MANAGERS, message="No survey results here.")
def staff_survey_results(request):
    user = request.user
    partnerships = selectors.survey_partnerships(user=user)
    if not partnerships:
        raise Http404("No survey results here.")
    chosen = request.GET.get("partnership", "").strip()
    partnership = partnerships[0]
    if chosen:
        partnership = next((p for p in partnerships if str(p.pk) == chosen), None)
        if partnership is None or not permissions.may_read_results(user, partnership):
            raise Http404("No such partnership.")
    results = selectors.survey_results(partnership=partnership)
    audit_record(
        actor=user,
        action=AuditEvent.Action.LIST,
        object_type="outcomes.staffsurveyresponse",
        summary=f"referrers' survey results of partnership {partnership.pk}",
    )
    return render(
        request,
        "outcomes/staff_survey/results.html",
        {"partnerships": partnerships, "partnership": partnership, "results": results, "method": METHOD},
    )

"""Advisors' pages for a case's outcomes and for closing it. Thin: validate a form, call one service."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from casework.permissions import get_case_for_user
from hjp.accounts.roles import ADVICE_WORKERS, role_required
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.formpage import submit_form
from hjp.core.forms import error_summary
from outcomes import permissions, services
from outcomes.forms import (
    CaseCloseForm,
    DecisionOutcomeForm,
    FinancialOutcomeForm,
    NonFinancialOutcomeForm,
    WellbeingForm,
)
from outcomes.models import OutcomeKind, WellbeingScore
from outcomes.selectors import case as selectors


def _case(request, case_pk):
    return get_case_for_user(request.user, case_pk, queryset=selectors.case_for_outcomes())


def _page(request, case, *, bound=None, status=200):
    """The outcomes page; `bound` replaces one of its forms with the submitted one (to show errors)."""
    issues = case.issues.all()
    scores = selectors.case_scores(case)
    forms_ = {
        "financial": FinancialOutcomeForm(issues=issues, prefix="financial"),
        "decision": DecisionOutcomeForm(issues=issues, prefix="decision"),
        "non_financial": NonFinancialOutcomeForm(issues=issues, prefix="non_financial"),
        "wellbeing_start": WellbeingForm(
            prefix="start",
            initial_items=_items(scores.get(WellbeingScore.Moment.START)),
            initial={"version": case.version},
        ),
        "wellbeing_close": WellbeingForm(
            prefix="close",
            initial_items=_items(scores.get(WellbeingScore.Moment.CLOSE)),
            initial={"version": case.version},
        ),
        "close": CaseCloseForm(prefix="close_case", initial={"version": case.version}),
    }
    if bound:
        forms_.update(bound)
    _attach_history(case, issues)
    audit_record(actor=request.user, action=AuditEvent.Action.VIEW, obj=case, summary="outcomes")
    return render(
        request,
        "outcomes/case_outcomes.html",
        {
            "case": case,
            "referral": case.referral,
            "issues": issues,
            "scores": scores,
            "totals": selectors.counted_money(issues),
            "can_correct": permissions.can_correct_outcomes(request.user, case),
            "can_confirm": permissions.can_confirm_expected_gain(request.user, case),
            "forms": forms_,
            "errors": error_summary(*(bound or {}).values()),
        },
        status=status,
    )


def _attach_history(case, issues) -> None:
    """Give each outcome on the page its corrections, oldest first, as `history` (one query for the case)."""
    history = selectors.outcome_history(case=case)
    for issue in issues:
        for kind, outcomes in (
            (OutcomeKind.FINANCIAL, issue.financial_outcomes.all()),
            (OutcomeKind.DECISION, issue.decisions.all()),
            (OutcomeKind.NON_FINANCIAL, issue.non_financial_outcomes.all()),
        ):
            for outcome in outcomes:
                outcome.history = history.get((kind, outcome.pk), [])


def _items(score: WellbeingScore | None) -> dict:
    return {i: v for i, v in enumerate(score.items, 1)} if score else {}


@role_required(ADVICE_WORKERS, message="No casework here.")
def case_outcomes(request, case_pk):
    return _page(request, _case(request, case_pk))


def _add(request, case_pk, *, key, form_class, service, success):
    case = _case(request, case_pk)
    form = form_class(request.POST, issues=case.issues.all(), prefix=key)

    def perform(data):
        data = dict(data)
        return service(
            case=case, issue=data.pop("issue"), actor=request.user, submission_token=form.submission_token, **data
        )

    submission = submit_form(request, form, perform)
    if submission.saved:
        messages.success(request, success)
    if submission.done:
        return redirect("outcomes:case_outcomes", case_pk=case.pk)
    return _page(request, case, bound={key: form}, status=400)


@require_POST
@role_required(ADVICE_WORKERS, message="No casework here.")
def financial_add(request, case_pk):
    return _add(
        request,
        case_pk,
        key="financial",
        form_class=FinancialOutcomeForm,
        service=services.financial_outcome_add,
        success="Financial outcome recorded.",
    )


@require_POST
@role_required(ADVICE_WORKERS, message="No casework here.")
def decision_add(request, case_pk):
    return _add(
        request,
        case_pk,
        key="decision",
        form_class=DecisionOutcomeForm,
        service=services.decision_outcome_add,
        success="Decision recorded.",
    )


@require_POST
@role_required(ADVICE_WORKERS, message="No casework here.")
def non_financial_add(request, case_pk):
    return _add(
        request,
        case_pk,
        key="non_financial",
        form_class=NonFinancialOutcomeForm,
        service=services.non_financial_outcome_add,
        success="Outcome recorded.",
    )


@require_POST
@role_required(ADVICE_WORKERS, message="No casework here.")
def wellbeing_record(request, case_pk, moment):
    if moment not in WellbeingScore.Moment.values:
        raise Http404("No such moment.")
    case = _case(request, case_pk)
    form = WellbeingForm(request.POST, prefix=moment)
    submission = submit_form(
        request,
        form,
        lambda data: services.wellbeing_record(
            case=case,
            actor=request.user,
            moment=moment,
            items=form.items,
            version=data["version"],
            submission_token=form.submission_token,
        ),
    )
    if submission.saved:
        messages.success(request, "Wellbeing score saved.")
    if submission.done:
        return redirect("outcomes:case_outcomes", case_pk=case.pk)
    # Refused or stale: nothing was saved; the page shows the score as saved now beside what was typed.
    return _page(request, case, bound={f"wellbeing_{moment}": form}, status=400)


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def case_close(request, case_pk):
    case = _case(request, case_pk)
    if request.method == "GET":
        return redirect(reverse("outcomes:case_outcomes", args=[case.pk]) + "#close")
    form = CaseCloseForm(request.POST, prefix="close_case")
    submission = submit_form(
        request,
        form,
        lambda data: services.case_close_with_outcomes(
            case=case,
            actor=request.user,
            version=data["version"],
            closure_reason=data["closure_reason"],
            note=data["note"],
            no_outcome_reason=data["no_outcome_reason"],
            no_outcome_note=data["no_outcome_note"],
        ),
    )
    if submission.saved:
        messages.success(request, "Case closed. The referrer's outcome report is on its way.")
        return redirect("casework:case", pk=case.pk)
    return _page(request, case, bound={"close": form}, status=400)

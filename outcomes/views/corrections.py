"""Advisors' and supervisors' pages that correct a recorded outcome: edit it (or confirm expected money when
the decision arrives) and mark it entered in error. Thin: validate a form, call one service."""

from django.http import Http404
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from casework.permissions import get_case_for_user
from casework.views.pages import form_page, posted
from hjp.accounts.roles import ADVICE_WORKERS, role_required
from hjp.core.lookups import get_visible_or_404
from outcomes import corrections, permissions
from outcomes.corrections import EDITABLE_FIELDS, FIELD_LABELS, shown_value
from outcomes.forms import CORRECTION_FORMS, EnteredInErrorForm
from outcomes.models import OUTCOME_MODELS, FinancialOutcome, OutcomeKind


def _outcome(request, case_pk, kind, pk):
    case = get_case_for_user(request.user, case_pk)
    try:
        kind = OutcomeKind(kind)
    except ValueError:
        raise Http404("No such outcome.") from None
    queryset = OUTCOME_MODELS[kind].objects.filter(issue__case=case).select_related("issue__category")
    return case, kind, get_visible_or_404(queryset, pk, "No such outcome.")


def _only_confirms(user, case, outcome) -> bool:
    """The user may not correct this case's outcomes, but may confirm this expected money."""
    return (
        not permissions.can_correct_outcomes(user, case)
        and isinstance(outcome, FinancialOutcome)
        and not outcome.confirmed
        and permissions.can_confirm_expected_gain(user, case)
    )


def _current(kind):
    def values(outcome):
        outcome.refresh_from_db()
        return [(FIELD_LABELS[name].capitalize(), shown_value(outcome, name)) for name in EDITABLE_FIELDS[kind]]

    return values


def _page(request, case, outcome, kind, form, **kwargs):
    outcomes_url = reverse("outcomes:case_outcomes", args=[case.pk])
    return form_page(
        request,
        form=form,
        next_url=outcomes_url,
        back_url=outcomes_url,
        audit_obj=case,
        heading_obj=case,
        current=_current(kind),
        **kwargs,
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def outcome_edit(request, case_pk, kind, pk):
    case, kind, outcome = _outcome(request, case_pk, kind, pk)
    confirm_only = _only_confirms(request.user, case, outcome)
    if outcome.is_entered_in_error or not (confirm_only or permissions.can_correct_outcomes(request.user, case)):
        raise Http404("This outcome cannot be changed by you now.")
    form = CORRECTION_FORMS[kind](
        posted(request), instance=outcome, initial={"confirmed": True} if confirm_only else {}
    )

    def perform(data):
        data = dict(data)
        reason = data.pop("reason", "")
        return corrections.outcome_update(
            outcome=outcome, actor=request.user, version=form.version, reason=reason, **data
        )

    return _page(
        request,
        case,
        outcome,
        kind,
        form,
        title=f"Confirm money gained: {outcome}" if confirm_only else f"Correct {kind.label.lower()}: {outcome}",
        intro="When the decision has arrived, tick 'Confirmed' and correct the amounts to the decision's."
        if confirm_only
        else "The change is kept in the outcome's history, with who made it and when.",
        submit_label="Save the correction",
        perform=perform,
        success="Outcome corrected.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def outcome_entered_in_error(request, case_pk, kind, pk):
    case, kind, outcome = _outcome(request, case_pk, kind, pk)
    if outcome.is_entered_in_error or not permissions.can_correct_outcomes(request.user, case):
        raise Http404("This outcome cannot be marked by you now.")
    form = EnteredInErrorForm(posted(request), instance=outcome)
    return _page(
        request,
        case,
        outcome,
        kind,
        form,
        title=f"Mark as entered in error: {outcome}",
        intro="It stays on the case, struck through with your reason, and no longer counts in any figure.",
        submit_label="Mark as entered in error",
        danger=True,
        perform=lambda data: corrections.outcome_mark_entered_in_error(
            outcome=outcome, actor=request.user, version=form.version, reason=data["reason"]
        ),
        success="Outcome marked as entered in error.",
    )

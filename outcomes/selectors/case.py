"""Reads for one case's outcomes page. The caller checks the user's right to the case."""

from django.db.models import Prefetch, QuerySet, Sum

from casework.models import Case, CaseIssue
from hjp.core.money import pennies
from outcomes.models import DecisionOutcome, FinancialOutcome, NonFinancialOutcome, OutcomeChange


def case_for_outcomes() -> QuerySet[Case]:
    return Case.objects.select_related("referral__patient", "referral__consent", "advisor").prefetch_related(
        Prefetch(
            "issues",
            queryset=CaseIssue.objects.select_related("category", "sub_category").prefetch_related(
                Prefetch(
                    "financial_outcomes",
                    queryset=FinancialOutcome.objects.select_related("benefit", "entered_in_error_by"),
                ),
                Prefetch("decisions", queryset=DecisionOutcome.objects.select_related("entered_in_error_by")),
                Prefetch(
                    "non_financial_outcomes",
                    queryset=NonFinancialOutcome.objects.select_related("entered_in_error_by"),
                ),
            ),
        ),
        "wellbeing_scores",
    )


def case_money(*, case: Case) -> dict:
    """The case's money gained, confirmed and expected together: a year of recurring amounts, the one-off
    amounts and their total, to the penny."""
    totals = (
        FinancialOutcome.objects.counted()
        .filter(issue__case=case)
        .aggregate(annual=Sum("annual_amount"), one_off=Sum("one_off_amount"))
    )
    annual, one_off = pennies(totals["annual"]), pennies(totals["one_off"])
    return {"annual": annual, "one_off": one_off, "total": annual + one_off}


def outcome_history(*, case: Case) -> dict[tuple[str, int], list[OutcomeChange]]:
    """Every correction of the case's outcomes, oldest first, by (outcome kind, outcome id); one query."""
    history: dict[tuple[str, int], list[OutcomeChange]] = {}
    for change in OutcomeChange.objects.filter(case=case).select_related("actor"):
        history.setdefault((change.outcome_kind, change.outcome_id), []).append(change)
    return history


def issues_with_counted_outcomes(*, case: Case) -> list[CaseIssue]:
    """The case's issues with the outcomes that count (not those entered in error), for the referrer."""
    return list(
        case.issues.select_related("category", "sub_category").prefetch_related(
            Prefetch("financial_outcomes", queryset=FinancialOutcome.objects.counted().select_related("benefit")),
            Prefetch("decisions", queryset=DecisionOutcome.objects.counted()),
            Prefetch("non_financial_outcomes", queryset=NonFinancialOutcome.objects.counted()),
        )
    )

"""Reads for one case's outcomes page. The caller checks the user's right to the case."""

import json
from collections.abc import Iterable
from datetime import UTC

from django.contrib.auth import get_user_model
from django.db.models import (
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Cast, JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from casework.models import Case, CaseIssue
from hjp.core.money import pennies
from outcomes.models import (
    DecisionOutcome,
    FinancialOutcome,
    NonFinancialOutcome,
    OutcomeChange,
    WellbeingScore,
)


def _score(moment: str) -> FilteredRelation:
    return FilteredRelation("wellbeing_scores", condition=Q(wellbeing_scores__moment=moment))


def case_for_outcomes() -> QuerySet[Case]:
    """The case with everything its outcomes page shows, in five queries: the case with its wellbeing scores
    (`start_score`, `close_score`, one row each at most) and its corrections (`correction_rows`, JSON objects
    joined by commas, read by `outcome_history`; SQLite and PostgreSQL alike), then its issues and their
    outcomes of each kind."""
    row = JSONObject(
        id="pk",
        outcome_kind="outcome_kind",
        outcome_id="outcome_id",
        action="action",
        changes="changes",
        reason="reason",
        at="at",
        actor_name="actor__full_name",
    )
    corrections = (
        OutcomeChange.objects.filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(rows=StringAgg(Cast(row, TextField()), delimiter=Value(",")))
        .values("rows")
    )
    moment = WellbeingScore.Moment
    scored = Case.objects.annotate(
        start_score=_score(moment.START),
        close_score=_score(moment.CLOSE),
        correction_rows=Subquery(corrections, output_field=TextField()),
    )
    return scored.select_related(
        "referral__patient", "referral__consent", "advisor", "start_score", "close_score"
    ).prefetch_related(
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
    )


def case_scores(case: Case) -> dict[str, WellbeingScore]:
    """The wellbeing scores of a case read by case_for_outcomes, by moment."""
    moment = WellbeingScore.Moment
    # A missing score leaves its attribute unset (a reverse relation read through select_related).
    scores = {moment.START: getattr(case, "start_score", None), moment.CLOSE: getattr(case, "close_score", None)}
    return {key: score for key, score in scores.items() if score is not None}


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


def counted_money(issues: Iterable[CaseIssue]) -> dict:
    """case_money from issues whose financial outcomes are already read (case_for_outcomes): no query."""
    counted = [o for issue in issues for o in issue.financial_outcomes.all() if o.entered_in_error_at is None]
    annual = pennies(sum((o.annual_amount for o in counted if o.annual_amount is not None), 0))
    one_off = pennies(sum((o.one_off_amount for o in counted if o.one_off_amount is not None), 0))
    return {"annual": annual, "one_off": one_off, "total": annual + one_off}


def outcome_history(*, case: Case) -> dict[tuple[str, int], list[OutcomeChange]]:
    """Every correction of the case's outcomes, oldest first, by (outcome kind, outcome id), from the rows
    case_for_outcomes read with the case (no query). Each is an unsaved OutcomeChange whose actor carries only
    the full name the page shows."""
    user_model = get_user_model()
    changes = []
    for row in json.loads(f"[{case.correction_rows or ''}]"):
        at = parse_datetime(row["at"])
        changes.append(
            OutcomeChange(
                id=row["id"],
                case=case,
                outcome_kind=row["outcome_kind"],
                outcome_id=row["outcome_id"],
                action=row["action"],
                # SQLite's json_object() gives a JSON column as its text.
                changes=json.loads(row["changes"]) if isinstance(row["changes"], str) else row["changes"],
                reason=row["reason"],
                at=at if timezone.is_aware(at) else timezone.make_aware(at, UTC),
                actor=user_model(full_name=row["actor_name"]),
            )
        )
    history: dict[tuple[str, int], list[OutcomeChange]] = {}
    for change in sorted(changes, key=lambda change: (change.at, change.pk)):
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

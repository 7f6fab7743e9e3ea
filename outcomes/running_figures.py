"""The figures kept as running totals, so that the dashboard, the funder report, its CSV and the referrers' digest
read a few hundred summary rows at any scale instead of aggregating the raw tables on every request.

Each referral *contributes* to monthly cells (FigureCell, CaseloadCell): `facts_of` reads what the counting
rules of outcomes.selectors.figures look at (its submission, triage, case, counted outcomes, wellbeing
scores, consent to outcome feedback and onward referrals with their handovers) and `cells_of` turns those facts into cells; the facts are kept (ReferralContribution) so that a
change adds only the difference. A change marks its referral pending (`mark_pending`, in the change's own
transaction: outcomes.receivers does it for every save and delete that can move a figure; a bulk write that
bypasses the models must call it itself, or end with a rebuild); `refresh_pending` brings pending referrals up to date (the `refresh_figures` task after
each commit, beat every minute, and the dashboard itself for its partnership before it reads), and
`rebuild` starts again from the raw tables (`manage.py rebuild_figures`).

Two refreshes of one referral serialise on its contribution row (SELECT ... FOR UPDATE); cells are changed
with INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n, in key order, so concurrent refreshes of different
referrals add up and never deadlock on each other. The pending marks are an append-only log (one row per change,
no unique key), so marking never waits for another transaction, and a refresh deletes only the rows it read. A
rebuild excludes refreshes for its duration (a transaction-level advisory lock on PostgreSQL). After changing `facts_of` or `cells_of`, run the rebuild."""

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, router, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from casework.models import OnwardReferral
from outcomes.models import (
    CaseloadCell,
    DecisionOutcome,
    ExperienceSurvey,
    FigureCell,
    FiguresPending,
    FinancialOutcome,
    ReferralContribution,
    WellbeingScore,
)
from outcomes.selectors.figures import DECISION_DECIDED, DECISION_WON, onward_result
from referrals.models import Referral, ReferralStatus, ReferralStatusChange

S = ReferralStatus
Moment = WellbeingScore.Moment
BATCH = 2000
REBUILD_BATCH = 10_000

# Measures of FigureCell. Referral figures sit in the month the referral was submitted, outcome figures in the
# month its case closed (the counting rules of outcomes.selectors.figures).
RECEIVED, ACCEPTED, DECIDED, CONTACTED, WAIT = "received", "accepted", "decided", "contacted", "wait_hours"
ORGANISATION, TEAM, PROFESSION, SETTING, DECILE, DECLINED = (
    "organisation",
    "team",
    "profession",
    "setting",
    "decile",
    "declined",
)
CLOSED, ANNUAL, ONE_OFF, MONEY_CASES = "closed", "money_annual", "money_one_off", "money_cases"
WON, DECISIONS = "decisions_won", "decisions_decided"
SCORED, SCORE_START, SCORE_CLOSE = "wellbeing_scored", "wellbeing_start", "wellbeing_close"
# The patient's own answers (outcomes.patient_voice): SWEMWBS where both scores are self-reported, and the
# experience survey keyed by answer (ExperienceAnswer), in the month the case closed like every outcome.
SELF_SCORED, SELF_START, SELF_CLOSE = "own_wellbeing_scored", "own_wellbeing_start", "own_wellbeing_close"
EXPERIENCE_EASY, EXPERIENCE_DIFFERENCE = "experience_easy", "experience_made_diff"
CONFIRMED, EXPECTED = "confirmed", "expected"
# Onward referrals, in the month each was made, keyed "<provider id>:<result>" (outcomes.selectors.figures).
ONWARD = "onward"
# A referring organisation's figures for its digest (outcomes.selectors.digest), keyed by the organisation's id
# (money by "<id>:confirmed" or "<id>:expected"): referrals made are ORGANISATION; outcomes count only where the
# patient agreed to outcome feedback (consent scope 3).
ORG_ACCEPTED, ORG_CLOSED = "org_accepted", "org_closed"
ORG_ANNUAL, ORG_ONE_OFF, ORG_MONEY_CASES = "org_money_annual", "org_money_one_off", "org_money_cases"
ORG_WON, ORG_DECIDED = "org_won", "org_decided"
# Engagement (outcomes.selectors.engagement), in the month the referral was submitted, keyed "<organisation id>:<team
# id>" ("<organisation id>:" without a team): referrals made, and those of them whose case has closed (an outcome
# went back). Only facts marked ENGAGED carry them, so a contribution counted before they existed takes away
# nothing it never added; `manage.py rebuild_figures` counts every referral.
ENG_MADE, ENG_CLOSED = "eng_made", "eng_closed"
ENGAGED = "e"
# Outcomes by the patient's deprivation decile (keyed by the decile, "" when not known), of cases closed in the
# month: how many closed, how many with a positive outcome (POSITIVE_OUTCOME), and confirmed money gained (n: the
# cases with confirmed money, which the disclosure of the amount rests on).
DECILE_CLOSED, DECILE_POSITIVE, DECILE_MONEY = "decile_closed", "decile_positive", "decile_money"
# What the dashboard's month series reads month by month; every other measure is summed over the period.
MONTHLY_MEASURES = (RECEIVED, ANNUAL, ONE_OFF)


def _primary(model):
    """The model's rows where they are written: a read replica may lag behind, and a contribution read from it
    would be counted wrong for good."""
    return model.objects.db_manager(router.db_for_write(model))


def month_of(moment: datetime | None) -> str | None:
    """The first day of the month `moment` falls in, in the installation's time zone, as ISO text."""
    return None if moment is None else timezone.localtime(moment).date().replace(day=1).isoformat()


def wait_hours(submitted: datetime, contacted: datetime) -> int:
    """The wait to first contact in whole hours, half an hour rounded up: the unit of the median's histogram."""
    return int((contacted - submitted).total_seconds() + 1800) // 3600


def facts_of(where: Q) -> dict[int, dict]:
    """The facts each referral matching `where` contributes, by referral id: a fixed number of queries for any
    number of referrals. A referral not in the answer contributes nothing."""
    rows = list(
        _primary(Referral)
        .filter(where)
        .values(
            "pk",
            "partnership_id",
            "status",
            "submitted_at",
            "referring_organisation_id",
            "referring_team_id",
            "referrer_profession",
            "setting",
            "patient__deprivation_decile",
            "case__pk",
            "case__advisor_id",
            "case__opened_at",
            "case__first_contact_at",
            "case__closed_at",
            "consent__outcome_feedback",
        )
        .order_by()
    )
    declined = [row["pk"] for row in rows if row["status"] == S.DECLINED]
    closed = [row["case__pk"] for row in rows if row["case__closed_at"] is not None]
    declines = defaultdict(list)
    for referral_id, reason in (
        _primary(ReferralStatusChange)
        .filter(referral_id__in=declined, to_status=S.DECLINED)
        .values_list("referral_id", "decline_reason")
    ):
        declines[referral_id].append(reason or "")
    money = defaultdict(dict)
    for row in (
        _primary(FinancialOutcome)
        .counted()
        .filter(issue__case_id__in=closed)
        .values("issue__case_id", "confirmed")
        .annotate(annual=Sum("annual_amount"), one_off=Sum("one_off_amount"))
        .order_by()
    ):
        money[row["issue__case_id"]][CONFIRMED if row["confirmed"] else EXPECTED] = [
            str(row["annual"]),
            str(row["one_off"]),
        ]
    decisions = defaultdict(dict)
    for row in (
        _primary(DecisionOutcome)
        .counted()
        .filter(issue__case_id__in=closed)
        .values("issue__case_id", "stage")
        .annotate(won=Count("pk", filter=DECISION_WON), decided=Count("pk", filter=DECISION_DECIDED))
        .order_by()
    ):
        decisions[row["issue__case_id"]][row["stage"]] = [row["won"], row["decided"]]
    scores, own_scores = defaultdict(dict), defaultdict(dict)
    for case_id, moment, total, self_reported in (
        _primary(WellbeingScore).filter(case_id__in=closed).values_list("case_id", "moment", "total", "self_reported")
    ):
        scores[case_id][moment] = total
        if self_reported:
            own_scores[case_id][moment] = total
    experience = {
        case_id: [easy, difference]
        for case_id, easy, difference in _primary(ExperienceSurvey)
        .filter(case_id__in=closed)
        .values_list("case_id", "easy_to_get_help", "made_a_difference")
    }

    onward = defaultdict(list)
    for row in (
        _primary(OnwardReferral)
        .filter(referral_id__in=[row["pk"] for row in rows])
        .values("referral_id", "provider_id", "made_at", "handover__state", "handover__outcome")
        .order_by("pk")
    ):
        result = onward_result(row["handover__state"], row["handover__outcome"])
        onward[row["referral_id"]].append([month_of(row["made_at"]), row["provider_id"], result])

    facts = {}
    for row in rows:
        fact = {"p": row["partnership_id"], "o": row["referring_organisation_id"], ENGAGED: 1}
        if row["pk"] in onward:
            fact["h"] = onward[row["pk"]]
        case_id = row["case__pk"]
        if row["submitted_at"] is not None and row["status"] != S.ENTERED_IN_ERROR:
            contacted = row["case__first_contact_at"]
            fact["r"] = {
                "m": month_of(row["submitted_at"]),
                "o": row["referring_organisation_id"],
                "t": row["referring_team_id"],
                "pr": row["referrer_profession"],
                "s": row["setting"] or "",
                "d": row["patient__deprivation_decile"],
                "a": case_id is not None,
                "x": case_id is not None or row["status"] in (S.DECLINED, S.REDIRECTED),
                "w": None if contacted is None else wait_hours(row["submitted_at"], contacted),
                # A declined referral counts once per decline recorded, and as 'not recorded' without one.
                "dr": (declines.get(row["pk"]) or [""]) if row["status"] == S.DECLINED else [],
            }
        if case_id is not None:
            case = {"a": row["case__advisor_id"], "o": month_of(row["case__opened_at"])}
            if row["case__closed_at"] is not None:
                start, close = scores[case_id].get(Moment.START), scores[case_id].get(Moment.CLOSE)
                own = [own_scores[case_id].get(Moment.START), own_scores[case_id].get(Moment.CLOSE)]
                case |= {
                    "x": month_of(row["case__closed_at"]),
                    "m": money.get(case_id, {}),
                    "dz": decisions.get(case_id, {}),
                    "wb": [start, close] if start is not None and close is not None else None,
                    "fb": bool(row["consent__outcome_feedback"]),
                    "ws": own if None not in own else None,
                    "ex": experience.get(case_id),
                }
            fact["c"] = case
        facts[row["pk"]] = fact
    return facts


def positive_outcome(case: dict) -> bool:
    """Whether a closed case (its facts) had a positive outcome: money gained, confirmed or expected, or a claim or
    appeal won. The share of cases closed with one is the outcome the deprivation table shows."""
    gained = any(Decimal(annual) + Decimal(one_off) > 0 for annual, one_off in case["m"].values())
    return gained or any(won for won, _ in case["dz"].values())


Cells = dict[
    tuple, list
]  # ("cell", partnership, month, measure, key) or ("load", partnership, month, advisor) -> [n, amount]


def _add(cells: Cells, key: tuple, n: int = 0, amount: Decimal = Decimal("0.00"), sign: int = 1) -> None:
    total = cells.setdefault(key, [0, Decimal("0.00")])
    total[0] += sign * n
    total[1] += sign * amount


def cells_of(fact: dict, cells: Cells, sign: int = 1) -> None:
    """Add (`sign` 1) or take away (-1) what one referral's facts contribute to `cells`."""
    if not fact:
        return
    partnership = fact["p"]
    if referral := fact.get("r"):
        month = referral["m"]

        def count(measure, key="", n=1):
            _add(cells, ("cell", partnership, month, measure, str(key)), n, sign=sign)

        count(RECEIVED)
        count(ACCEPTED, n=int(referral["a"]))
        count(ORG_ACCEPTED, referral["o"], n=int(referral["a"]))
        count(DECIDED, n=int(referral["x"]))
        if referral["w"] is not None:
            count(CONTACTED)
            count(WAIT, referral["w"])
        count(ORGANISATION, referral["o"])
        count(TEAM, referral["t"] or "")
        count(PROFESSION, referral["pr"])
        count(SETTING, referral["s"])
        count(DECILE, "" if referral["d"] is None else referral["d"])
        for reason in referral["dr"]:
            count(DECLINED, reason)
        if fact.get(ENGAGED):
            team = f"{referral['o']}:{referral['t'] or ''}"
            count(ENG_MADE, team)
            count(ENG_CLOSED, team, n=int(bool(fact.get("c", {}).get("x"))))
    for month, provider_id, result in fact.get("h", ()):
        _add(cells, ("cell", partnership, month, ONWARD, f"{provider_id}:{result}"), 1, sign=sign)
    if case := fact.get("c"):
        _add(cells, ("load", partnership, case["o"], case["a"]), 1, sign=sign)
        if month := case.get("x"):
            _add(cells, ("load", partnership, month, case["a"]), -1, sign=sign)

            def add(measure, key="", n=0, amount=Decimal("0.00")):
                _add(cells, ("cell", partnership, month, measure, key), n, amount, sign=sign)

            add(CLOSED, n=1)
            for kind, (annual, one_off) in case["m"].items():
                add(ANNUAL, kind, amount=Decimal(annual))
                add(ONE_OFF, kind, amount=Decimal(one_off))
                add(MONEY_CASES, kind, n=1)
            for stage, (won, decided) in case["dz"].items():
                add(WON, stage, n=won)
                add(DECISIONS, stage, n=decided)
            if case["wb"]:
                add(SCORED, n=1)
                add(SCORE_START, n=case["wb"][0])
                add(SCORE_CLOSE, n=case["wb"][1])
            if case.get("ws"):
                add(SELF_SCORED, n=1)
                add(SELF_START, n=case["ws"][0])
                add(SELF_CLOSE, n=case["ws"][1])
            if case.get("ex"):
                add(EXPERIENCE_EASY, case["ex"][0], n=1)
                add(EXPERIENCE_DIFFERENCE, case["ex"][1], n=1)
            decile = fact.get("r", {}).get("d")
            decile = "" if decile is None else str(decile)
            add(DECILE_CLOSED, decile, n=1)
            add(DECILE_POSITIVE, decile, n=int(positive_outcome(case)))
            if confirmed := case["m"].get(CONFIRMED):
                add(DECILE_MONEY, decile, n=1, amount=Decimal(confirmed[0]) + Decimal(confirmed[1]))
            organisation = str(fact["o"])
            add(ORG_CLOSED, organisation, n=1)
            if case["fb"]:
                for kind, (annual, one_off) in case["m"].items():
                    add(ORG_ANNUAL, f"{organisation}:{kind}", amount=Decimal(annual))
                    add(ORG_ONE_OFF, f"{organisation}:{kind}", amount=Decimal(one_off))
                    add(ORG_MONEY_CASES, f"{organisation}:{kind}", n=1)
                add(ORG_WON, organisation, n=sum(won for won, _ in case["dz"].values()))
                add(ORG_DECIDED, organisation, n=sum(decided for _, decided in case["dz"].values()))


def _quoted(model, *fields) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), [quote(model._meta.get_field(f).column) for f in fields]


def _upsert_sql(model, unique: tuple, sums: tuple, rows: int) -> str:
    table, columns = _quoted(model, *unique, *sums)
    _, conflict = _quoted(model, *unique)
    _, summed = _quoted(model, *sums)
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in summed)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
    )


def _day(month: str):
    return connection.ops.adapt_datefield_value(date.fromisoformat(month))


def _pounds(amount: Decimal):
    return connection.ops.adapt_decimalfield_value(amount, 16, 2)


def apply(cells: Cells) -> None:
    """Add `cells` to the running totals, in key order (so concurrent refreshes lock rows in the same order)."""
    figure, load = [], []
    for key in sorted(k for k, (n, amount) in cells.items() if n or amount):
        n, amount = cells[key]
        if key[0] == "cell":
            _, partnership, month, measure, name = key
            figure.append((partnership, _day(month), measure, name, n, _pounds(amount)))
        else:
            _, partnership, month, advisor = key
            load.append((partnership, _day(month), advisor, n))
    with connection.cursor() as cursor:
        for model, unique, sums, rows in (
            (FigureCell, ("partnership_id", "month", "measure", "key"), ("n", "amount"), figure),
            (CaseloadCell, ("partnership_id", "month", "advisor"), ("n",), load),
        ):
            for start in range(0, len(rows), 500):
                chunk = rows[start : start + 500]
                params = [value for row in chunk for value in row]
                cursor.execute(_upsert_sql(model, unique, sums, len(chunk)), params)


def mark_pending(referrals: QuerySet[Referral]) -> None:
    """Mark these referrals' figures out of date, in one INSERT ... SELECT however many they are, in the caller's
    transaction, and have them refreshed after it commits. Every write that can move a figure without a
    model save (a queryset update, a bulk insert, raw SQL) calls this."""
    select, params = referrals.values("pk", "partnership_id").order_by().query.sql_with_params()
    table, columns = _quoted(FiguresPending, "referral_id", "partnership_id")
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) {select}", params)
    _refresh_after_commit()


def mark_referral_pending(*, referral_id: int, partnership_id: int) -> None:
    """Mark one referral whose row is gone (deleted) out of date."""
    FiguresPending.objects.create(referral_id=referral_id, partnership_id=partnership_id)
    _refresh_after_commit()


def _enqueue_refresh() -> None:
    from outcomes.tasks import refresh_figures

    refresh_figures.delay()


def _refresh_after_commit() -> None:
    """One `refresh_figures` task per transaction, however many referrals it marked (robust: a broker that is
    down leaves the referrals pending for the sweep and the dashboard, and fails nothing)."""
    if any(callback is _enqueue_refresh for _, callback, *_ in connection.run_on_commit):
        return
    transaction.on_commit(_enqueue_refresh, robust=True)


# The key of the transaction-level advisory lock (PostgreSQL) that a refresh takes shared and a rebuild exclusive.
# Transaction-level: behind PgBouncer in transaction mode a session-level lock could outlive its transaction.
FIGURES_LOCK = 4_817_311


def _lock_figures(*, exclusive: bool) -> None:
    """Refreshes run side by side; a rebuild runs alone: it empties the cells and reads the referrals batch by
    batch, so a refresh in between would add a change to the new cells that a later batch counts again. A refresh
    that starts during a rebuild waits for its commit, and then counts only the difference from what the rebuild
    kept. SQLite (`make run`) writes one transaction at a time anyway."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [FIGURES_LOCK])


@transaction.atomic
def refresh(referral_ids: list[int]) -> None:
    """Bring these referrals' contributions up to date: wait for a rebuild under way, lock each contribution (two
    refreshes of one referral wait for each other), read the facts anew, and apply the difference to the cells."""
    ids = sorted(set(referral_ids))
    if not ids:
        return
    _lock_figures(exclusive=False)
    ReferralContribution.objects.bulk_create([ReferralContribution(referral_id=i) for i in ids], ignore_conflicts=True)
    old = dict(
        ReferralContribution.objects.select_for_update()
        .filter(referral_id__in=ids)
        .order_by("referral_id")
        .values_list("referral_id", "facts")
    )
    new = facts_of(Q(pk__in=ids))
    cells: Cells = {}
    for referral_id in ids:
        cells_of(old.get(referral_id, {}), cells, sign=-1)
        cells_of(new.get(referral_id, {}), cells)
    apply(cells)
    ReferralContribution.objects.bulk_create(
        [ReferralContribution(referral_id=i, facts=new.get(i, {})) for i in ids],
        update_conflicts=True,
        unique_fields=["referral_id"],
        update_fields=["facts"],
    )


def refresh_pending(*, partnership_id: int | None = None, batch: int = BATCH) -> int:
    """Refresh pending referrals (of one partnership, or all) in batches, each in its own transaction; pending
    rows another refresh holds are skipped (it is doing them). Returns how many referrals were refreshed."""
    done = 0
    while True:
        with transaction.atomic():
            pending = _primary(FiguresPending).order_by("id")
            if partnership_id is not None:
                pending = pending.filter(partnership_id=partnership_id)
            if connection.features.has_select_for_update_skip_locked:
                pending = pending.select_for_update(skip_locked=True)
            rows = list(pending.values_list("id", "referral_id")[:batch])
            if not rows:
                return done
            # Only the rows read are taken off: a change that commits from now on has a row of its own (it was not
            # visible to this read), so its referral is read again by the next refresh even if this one missed it.
            FiguresPending.objects.filter(id__in=[row_id for row_id, _ in rows]).delete()
            ids = sorted({referral_id for _, referral_id in rows})
            refresh(ids)
            done += len(ids)


def is_pending(*, partnership_id: int | None = None) -> bool:
    """Whether any referral (of the partnership, or at all) waits to be counted: one cheap query."""
    pending = _primary(FiguresPending).all()
    return (pending if partnership_id is None else pending.filter(partnership_id=partnership_id)).exists()


@transaction.atomic
def rebuild(*, partnership_id: int | None = None, batch: int = REBUILD_BATCH) -> int:
    """Work out every running total again from the raw tables (of one partnership, or all), in one transaction:
    the referrals are read in batches of `batch` with a fixed number of queries each. Returns how many
    referrals were counted. Refreshes wait until it commits (`_lock_figures`)."""
    _lock_figures(exclusive=True)
    referrals = _primary(Referral).order_by("pk")
    cells_scope, load_scope = FigureCell.objects.all(), CaseloadCell.objects.all()
    if partnership_id is not None:
        referrals = referrals.filter(partnership_id=partnership_id)
        cells_scope = cells_scope.filter(partnership_id=partnership_id)
        load_scope = load_scope.filter(partnership_id=partnership_id)
    else:
        ReferralContribution.objects.exclude(referral_id__in=Referral.objects.values("pk")).delete()
    cells_scope.delete()
    load_scope.delete()
    cells: Cells = {}
    counted, after = 0, 0
    while ids := list(referrals.filter(pk__gt=after).values_list("pk", flat=True)[:batch]):
        after = ids[-1]
        facts = facts_of(Q(pk__gte=ids[0], pk__lte=after) if partnership_id is None else Q(pk__in=ids))
        for fact in facts.values():
            if partnership_id is None or fact["p"] == partnership_id:
                cells_of(fact, cells)
        ReferralContribution.objects.bulk_create(
            [ReferralContribution(referral_id=i, facts=f) for i, f in facts.items()],
            update_conflicts=True,
            unique_fields=["referral_id"],
            update_fields=["facts"],
        )
        counted += len(ids)
    apply(cells)
    return counted

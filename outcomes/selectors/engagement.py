"""The engagement of referring organisations and their teams, for the leads (managers, the advice service's
supervisors) and an organisation's practice champions: referrals per month over a year, per 1,000 registered
patients where the list size is recorded, the share whose case has closed (an outcome went back), and the teams
that have not referred for 90 days.

The monthly figures are read from the running totals (outcomes.running_figures: ENG_MADE and ENG_CLOSED, in the
month each referral was sent), a few hundred rows at most whatever the number of referrals. A team's latest
referral is one probe of the referrals' (team, sent) index per team. Exact figures: they count the
organisation's own referrals, for people who lead it or the partnership (the digest's are rounded)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from hjp.accounts.models import Organisation, Team
from outcomes import running_figures as rf
from outcomes.models import FigureCell
from outcomes.selectors.figures import Period
from referrals.models import Referral, ReferralStatus

ENGAGEMENT_MONTHS = 12
INACTIVE_DAYS = 90
RECENT_OUTCOMES = 20


def months_to(today: date, count: int = ENGAGEMENT_MONTHS) -> list[date]:
    """The first days of the `count` calendar months ending with today's, oldest first."""
    last = today.year * 12 + today.month - 1
    return [date((last - i) // 12, (last - i) % 12 + 1, 1) for i in reversed(range(count))]


@dataclass
class TeamEngagement:
    """One team's row (team None: the organisation's referrals with no team recorded)."""

    team: Team | None
    by_month: list[int]
    closed: int = 0
    last_referral: datetime | None = None

    @property
    def made(self) -> int:
        return sum(self.by_month)

    @property
    def name(self) -> str:
        return self.team.name if self.team else "No team recorded"

    @property
    def outcome_share(self) -> int | None:
        """The percentage of the year's referrals whose case has closed, or None with no referral."""
        return round(100 * self.closed / self.made) if self.made else None


@dataclass
class OrganisationEngagement:
    organisation: Organisation
    teams: list[TeamEngagement] = field(default_factory=list)
    inactive_teams: list[TeamEngagement] = field(default_factory=list)
    total: TeamEngagement | None = None

    @property
    def list_size_text(self) -> str:
        return f"{self.organisation.list_size:,}" if self.organisation.list_size else ""

    @property
    def per_thousand(self) -> Decimal | None:
        """The year's referrals per 1,000 registered patients, to one decimal place, where the list size is known."""
        size = self.organisation.list_size
        if not size:
            return None
        return (Decimal(self.total.made * 1000) / size).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Engagement:
    months: list[date]
    period: Period
    inactive_since: date
    organisations: list[OrganisationEngagement]


def _teams(organisations: list[Organisation], partnership_id: int | None) -> list[Team]:
    """The organisations' teams with each one's latest referral sent (not one marked sent in error), within the
    partnership when one is given, as the figures beside it are."""
    sent = Referral.objects.filter(referring_team=OuterRef("pk"), submitted_at__isnull=False)
    if partnership_id is not None:
        sent = sent.filter(partnership_id=partnership_id)
    latest = sent.exclude(status=ReferralStatus.ENTERED_IN_ERROR).order_by("-submitted_at").values("submitted_at")[:1]
    return list(
        Team.objects.filter(organisation__in=organisations)
        .annotate(last_referral=Subquery(latest))
        .order_by("organisation_id", "name", "pk")
    )


def engagement(
    *, organisations: list[Organisation], partnership_id: int | None = None, today: date, count_pending: bool = True
) -> Engagement:
    """The engagement of `organisations` over the twelve months ending with `today`'s: within one partnership
    (a lead's view), or across every partnership they refer to (`partnership_id` None: a champion's view, the
    digest). Three queries whatever the number of referrals: whether any figure waits to be counted (then more,
    counting it), the teams, the cells. `count_pending=False` for a caller that counted them already and must
    only read (a digest composed under its message's row lock): two queries."""
    months = months_to(today)
    period = Period(start=months[0], end=Period.month(today.year, today.month).end)
    inactive_since = today - timedelta(days=INACTIVE_DAYS)
    if count_pending and rf.is_pending(partnership_id=partnership_id):
        rf.refresh_pending(partnership_id=partnership_id)
    teams = _teams(organisations, partnership_id)
    keys = [f"{o.pk}:" for o in organisations] + [f"{t.organisation_id}:{t.pk}" for t in teams]
    cells = FigureCell.objects.filter(
        measure__in=(rf.ENG_MADE, rf.ENG_CLOSED), key__in=keys, month__gte=months[0], month__lte=months[-1]
    )
    if partnership_id is not None:
        cells = cells.filter(partnership_id=partnership_id)
    column = {month: i for i, month in enumerate(months)}
    counted: dict[str, TeamEngagement] = {key: TeamEngagement(team=None, by_month=[0] * len(months)) for key in keys}
    for row in cells.values("month", "measure", "key").annotate(n=Sum("n")).order_by():
        row_team = counted[row["key"]]
        if row["measure"] == rf.ENG_MADE:
            row_team.by_month[column[row["month"]]] += row["n"]
        else:
            row_team.closed += row["n"]
    rows = []
    cutoff = timezone.make_aware(datetime.combine(inactive_since, datetime.min.time()))
    for organisation in organisations:
        own = OrganisationEngagement(organisation=organisation)
        for team in (t for t in teams if t.organisation_id == organisation.pk):
            row_team = counted[f"{organisation.pk}:{team.pk}"]
            row_team.team, row_team.last_referral = team, team.last_referral
            own.teams.append(row_team)
            if team.last_referral is None or team.last_referral < cutoff:
                own.inactive_teams.append(row_team)
        no_team = counted[f"{organisation.pk}:"]
        if no_team.made or no_team.closed:
            own.teams.append(no_team)
        own.total = TeamEngagement(
            team=None,
            by_month=[sum(t.by_month[i] for t in own.teams) for i in range(len(months))],
            closed=sum(t.closed for t in own.teams),
        )
        rows.append(own)
    return Engagement(months=months, period=period, inactive_since=inactive_since, organisations=rows)


def recent_outcomes(*, user, organisation: Organisation) -> QuerySet[Referral]:
    """A champion's latest referrals of their organisation whose case has closed (at most RECENT_OUTCOMES), with
    what a list of them shows: reference, team, when the case closed, no patient. One query."""
    return (
        Referral.objects.outcomes_visible_to(user)
        .filter(referring_organisation=organisation, case__closed_at__isnull=False)
        .select_related("case", "referring_team")
        .order_by("-case__closed_at", "-pk")[:RECENT_OUTCOMES]
    )

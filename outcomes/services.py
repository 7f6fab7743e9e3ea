"""Writes for outcomes, closing a case with its outcomes, and the feedback that goes back to referrers.

Every message is written to the outbox (hjp.notifications) in the transaction of the change it reports,
with a key that makes it unique, and delivered by Celery; a withdrawal of consent stops what is not sent."""

import re
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from casework import services as casework_services
from casework.models import OPEN_CASE_STATES, Case, CaseIssue, Deadline, EvidenceRequest
from casework.permissions import is_case_worker
from casework.services.common import bump_version, lock_case
from hjp.accounts.models import Membership, Organisation, Role, User
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.redaction import placeholder
from hjp.core.submissions import once_per_submission
from hjp.notifications.models import MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue
from outcomes import disclosure, running_figures
from outcomes.case_studies import case_studies_erase
from outcomes.corrections import outcome_changes_erase
from outcomes.models import (
    OUTCOME_MODELS,
    CaseClosure,
    DecisionOutcome,
    FinancialOutcome,
    NonFinancialOutcome,
    WellbeingScore,
    annualise,
)
from outcomes.patient_voice import patient_links_erase
from outcomes.selectors.digest import DigestPeriod, digest_periods
from outcomes.selectors.engagement import TeamEngagement, engagement
from outcomes.selectors.figures import Period
from outcomes.staff_survey.services import staff_survey_erase
from referrals.models import Referral
from referrals.permissions import author_is_current
from referrals.signals import task_changed

Action = AuditEvent.Action


def _check_can_record(case: Case, actor) -> None:
    if not is_case_worker(actor, case.referral.advice_organisation_id):
        raise DomainError("Only advisors of this case's advice service can record its outcomes.")
    if not case.is_open:
        raise DomainError("This case is closed. A supervisor can reopen it to record more outcomes.")


def _check_issue(case: Case, issue: CaseIssue) -> None:
    if issue.case_id != case.pk:
        raise DomainError("That issue belongs to another case.")


def _record(outcome, *, case: Case, actor) -> None:
    """Validate and save an outcome of one of the case's issues, with its audit entry."""
    _check_can_record(case, actor)
    _check_issue(case, outcome.issue)
    outcome.full_clean()
    outcome.save()
    entry = audit_record(actor=actor, action=Action.CREATE, obj=outcome, summary=f"case {case.pk}")
    task_changed.send(sender=Referral, referral_id=case.referral_id, change=f"audit-{entry.pk}")


@once_per_submission
@transaction.atomic
def financial_outcome_add(*, case: Case, issue: CaseIssue, actor, **fields) -> FinancialOutcome:
    outcome = FinancialOutcome(issue=issue, recorded_by=actor, **fields)
    outcome.recurring_period = outcome.recurring_period or ""
    outcome.one_off_amount = outcome.one_off_amount or Decimal("0.00")
    outcome.annual_amount = annualise(outcome.recurring_amount, outcome.recurring_period)
    _record(outcome, case=case, actor=actor)
    return outcome


@once_per_submission
@transaction.atomic
def decision_outcome_add(*, case: Case, issue: CaseIssue, actor, **fields) -> DecisionOutcome:
    outcome = DecisionOutcome(issue=issue, recorded_by=actor, **fields)
    _record(outcome, case=case, actor=actor)
    return outcome


@once_per_submission
@transaction.atomic
def non_financial_outcome_add(*, case: Case, issue: CaseIssue, actor, **fields) -> NonFinancialOutcome:
    outcome = NonFinancialOutcome(issue=issue, recorded_by=actor, **fields)
    _record(outcome, case=case, actor=actor)
    return outcome


@once_per_submission
@transaction.atomic
def wellbeing_record(*, case: Case, actor, moment: str, items: list[int], version: int | None = None) -> WellbeingScore:
    """Record (or correct) the SWEMWBS score at the start or the close of a case. With `version` (the case
    version the form was loaded with), a score someone else saved since is not overwritten: StaleCaseError."""
    if version is not None:
        case = lock_case(case, actor=actor, version=version)
    _check_can_record(case, actor)
    if len(items) != 7 or any(not 1 <= int(i) <= 5 for i in items):
        raise DomainError("The wellbeing scale has 7 items, each scored from 1 to 5.")
    moment = WellbeingScore.Moment(moment)
    if WellbeingScore.objects.filter(case=case, moment=moment, self_reported=True).exists():
        raise DomainError(
            "The patient recorded this score themselves, through their own link: it stays as they gave it."
        )
    score, _ = WellbeingScore.objects.select_for_update().get_or_create(
        case=case,
        moment=moment,
        defaults={"recorded_by": actor, "total": sum(items), **{f"item_{i}": v for i, v in enumerate(items, 1)}},
    )
    for i, value in enumerate(items, 1):
        setattr(score, f"item_{i}", int(value))
    score.total = sum(int(v) for v in items)
    score.recorded_by = actor
    score.full_clean()
    score.save()
    if version is not None:
        bump_version(case)
    audit_record(actor=actor, action=Action.UPDATE, obj=score, summary=f"case {case.pk} {moment}")
    return score


def outcomes_erase(*, referral_ids: list[int], reason: str, actor, now) -> None:
    """Outcomes' part of the one erasure path (`referrals.services.erasure`): blank the free text outcomes
    hold about the patient: notes, why an outcome was marked entered in error, and the corrections' reasons and
    the old and new text of corrected notes (outcomes.corrections), and the comments referrers gave after the
    patient's outcome reports (outcomes.staff_survey). The outcomes themselves (kinds, amounts, results, scores,
    survey ratings) and who corrected them when remain for reports. Case studies of the patient are withdrawn,
    their text erased (outcomes.case_studies). Each outcome erased gets a new version,
    so a correction form opened before cannot write the old text back."""
    text = placeholder(reason)
    for model in OUTCOME_MODELS.values():
        outcomes = model.objects.filter(issue__case__referral_id__in=referral_ids)
        # A marking keeps its who and when; the reason it must have (a constraint) becomes the placeholder.
        outcomes.exclude(entered_in_error_reason="").exclude(entered_in_error_reason=text).update(
            entered_in_error_reason=text, version=F("version") + 1, updated_at=now
        )
    NonFinancialOutcome.objects.filter(issue__case__referral_id__in=referral_ids).exclude(note="").exclude(
        note=text
    ).update(note=text, version=F("version") + 1, updated_at=now)
    outcome_changes_erase(referral_ids=referral_ids, text=text)
    CaseClosure.objects.filter(case__referral_id__in=referral_ids).exclude(no_outcome_note="").update(
        no_outcome_note=text, updated_at=now
    )
    patient_links_erase(referral_ids=referral_ids)
    staff_survey_erase(referral_ids=referral_ids)
    case_studies_erase(referral_ids=referral_ids, reason=reason, now=now)


def case_has_outcomes(case: Case) -> bool:
    issue_q = Q(issue__case=case)
    return (
        FinancialOutcome.objects.counted().filter(issue_q).exists()
        or DecisionOutcome.objects.counted().filter(issue_q).exists()
        or NonFinancialOutcome.objects.counted().filter(issue_q).exists()
    )


@transaction.atomic
def case_close_with_outcomes(
    *,
    case: Case,
    actor,
    version: int,
    closure_reason: str,
    note: str = "",
    no_outcome_reason: str = "",
    no_outcome_note: str = "",
) -> Case:
    """Close a case: it needs at least one outcome, or an explicit 'no outcome' reason. The referrer's outcome
    report is put in the outbox in the same transaction, so it is sent if and only if the close commits."""
    if not case_has_outcomes(case) and not no_outcome_reason:
        raise DomainError("Record at least one outcome before closing, or say why there is no outcome.")
    closed = casework_services.case_close(
        case=case, actor=actor, version=version, closure_reason=closure_reason, note=note
    )
    CaseClosure.objects.update_or_create(
        case=closed,
        defaults={"no_outcome_reason": no_outcome_reason, "no_outcome_note": no_outcome_note.strip()},
    )
    queue_outcome_report(case=closed)
    return closed


# --- feedback to referrers --------------------------------------------------------------------------------


def outcome_report_body(case: Case) -> str:
    """The report the referrer gets when a case closes: the issues worked and, with consent scope 3, the
    outcomes and money gained; without it, only that the case has closed."""
    referral = case.referral
    issues = list(
        case.issues.select_related("category", "sub_category").prefetch_related(
            Prefetch("financial_outcomes", queryset=FinancialOutcome.objects.counted().select_related("benefit")),
            Prefetch("decisions", queryset=DecisionOutcome.objects.counted()),
            Prefetch("non_financial_outcomes", queryset=NonFinancialOutcome.objects.counted()),
        )
    )
    total = sum((outcome.total_gain for issue in issues for outcome in issue.financial_outcomes.all()), Decimal("0.00"))
    wellbeing = None
    if referral.consent.allows_outcome_feedback:
        scores = {score.moment: score.total for score in case.wellbeing_scores.all()}
        moment = WellbeingScore.Moment
        if {moment.START, moment.CLOSE} <= scores.keys():
            start, close = scores[moment.START], scores[moment.CLOSE]
            wellbeing = {"start": start, "close": close, "change": close - start}
    return render_message("outcome_report", referral=referral, issues=issues, total=total, wellbeing=wellbeing)


def queue_outcome_report(*, case: Case, occasion: str = "") -> None:
    """Queue the referrer's outcome report of a closed case; once per close, and once per `occasion` (consent to
    outcome feedback given after the close). Its text is composed again when it is delivered
    (`compose_outcome_report`), so it reports the outcomes and the consent of that moment."""
    referral = Referral.objects.select_related("consent", "patient", "advice_organisation", "referrer").get(
        pk=case.referral_id
    )
    if referral.consent.is_withdrawn or not author_is_current(referral):
        return  # nothing goes to a referrer who has since left the organisation or moved to another role
    case.referral = referral
    message_queue(
        recipient=referral.referrer,
        kind=MessageKind.OUTCOME_REPORT,
        key=f"{OUTCOME_REPORT_KEY}{case.pk}:closed:{case.closed_at:%Y%m%d%H%M%S%f}{occasion and ':' + occasion}",
        subject=render_subject("outcome_report", referral=referral),
        body=outcome_report_body(case),
        url=reverse("referrals:detail", args=[referral.pk]),
        referral_id=referral.pk,
    )


OUTCOME_REPORT_KEY = "outcome_report:case:"  # then the case id: the composer reads it back


def compose_outcome_report(message) -> tuple[str, str] | None:
    """The outcome report as it reads when it is delivered (hjp.notifications.services.register_composer)."""
    match = re.fullmatch(rf"{OUTCOME_REPORT_KEY}(\d+):.*", message.key)
    case = match and (
        Case.objects.select_related("referral__consent", "referral__patient", "referral__advice_organisation")
        .filter(pk=match[1])
        .first()
    )
    if not case:  # not one this module queued: it stays as written
        return message.subject, message.body
    if case.referral.consent.is_withdrawn:
        return None
    return render_subject("outcome_report", referral=case.referral), outcome_report_body(case)


def outcome_report_on_consent_given_later(*, referral: Referral, actor) -> None:
    """Consent to outcome feedback (scope 3) was given after the case closed: the referrer gets the outcome
    report now, with the outcomes."""
    case = Case.objects.filter(referral=referral).first()
    if case is not None and case.closed_at is not None and not case.is_open:
        queue_outcome_report(case=case, occasion=f"feedback_given:{timezone.now():%Y%m%d%H%M%S%f}")


DIGEST_KEY = "digest:"  # then the organisation id, the month (YYYY-MM), for a lead's "partnership:<id>:", the user


def prepare_digest() -> None:
    """Before a digest is claimed for delivery, outside its transaction: count what is still pending, so that its
    composer (under the message's row lock) only reads the running totals."""
    running_figures.refresh_pending()


def _digest_organisation(organisation_id: int, partnership_id: int | None) -> Organisation | None:
    """The digest's organisation, in one query; for a lead's digest with the partnership's name
    (`partnership_name`), and None once the organisation has left that partnership."""
    organisations = Organisation.objects.filter(pk=organisation_id)
    if partnership_id is not None:
        organisations = organisations.filter(health_partnerships=partnership_id).annotate(
            partnership_name=F("health_partnerships__name")
        )
    return organisations.first()


def _digest_text(*, organisation: Organisation, year: int, month: int, partnership_id: int | None) -> tuple[str, str]:
    """A digest's subject and body: the organisation's figures and teams across every partnership it refers to
    (`partnership_id` None: its own referrers and champions), or within one partnership (its leads)."""
    partnership_name = getattr(organisation, "partnership_name", None) if partnership_id is not None else None
    subject = render_subject(
        "digest", period=Period.month(year, month), organisation=organisation, partnership_name=partnership_name
    )
    body = digest_body(
        organisation=organisation,
        blocks=digest_periods(organisation=organisation, year=year, month=month, partnership_id=partnership_id),
        teams=digest_teams(organisation=organisation, year=year, month=month, partnership_id=partnership_id),
        partnership_name=partnership_name,
    )
    return subject, body


def compose_digest(message) -> tuple[str, str]:
    """A digest as it reads when it is delivered: the figures of that moment (outcomes corrected since it was
    queued, consent to outcome feedback withdrawn since), through the same functions that queued it."""
    match = re.fullmatch(rf"{DIGEST_KEY}(\d+):(\d{{4}})-(\d{{2}}):(?:partnership:(\d+):)?.*", message.key)
    partnership_id = int(match[4]) if match and match[4] else None
    organisation = match and _digest_organisation(int(match[1]), partnership_id)
    if not organisation:  # not one this module queued: it stays as written
        return message.subject, message.body
    return _digest_text(
        organisation=organisation, year=int(match[2]), month=int(match[3]), partnership_id=partnership_id
    )


def digest_teams(
    *, organisation: Organisation, year: int, month: int, partnership_id: int | None = None
) -> list[TeamEngagement]:
    """The organisation's teams over the twelve months ending with the digest's month (its second block), from
    the engagement figures, across its partnerships or within one (`partnership_id`: a lead's digest); only
    reads (the figures were counted before: `prepare_digest`)."""
    last_day = Period.month(year, month).end
    figures = engagement(
        organisations=[organisation], partnership_id=partnership_id, today=last_day, count_pending=False
    )
    return figures.organisations[0].teams


def digest_body(
    *,
    organisation: Organisation,
    blocks: list[DigestPeriod],
    teams: list[TeamEngagement] = (),
    partnership_name: str | None = None,
) -> str:
    """The digest's figures for each of its periods, and the twelve months' referrals by team, through the one
    disclosure method (outcomes.disclosure): counts rounded to 5 and below 10 shown as 'fewer than 10', money
    and success rates only over 10 cases or decisions or more, as in the funders' report."""
    shown = [
        {
            "title": block.title,
            "period": block.period,
            "made": disclosure.count_text(block.figures.made),
            "accepted": disclosure.count_text(block.figures.accepted),
            "closed": disclosure.count_text(block.figures.closed),
            "confirmed": disclosure.money(block.figures.money.confirmed.total, block.figures.money.confirmed.cases),
            "expected": disclosure.money(block.figures.money.expected.total, block.figures.money.expected.cases),
            "success_rate": disclosure.rate(block.figures.won, block.figures.decided),
            "decided": disclosure.count_text(block.figures.decided),
        }
        for block in blocks
    ]
    by_team = [
        {
            "name": team.name,
            "made": disclosure.count_text(team.made),
            "outcome_rate": disclosure.rate(team.closed, team.made),
        }
        for team in teams
    ]
    return render_message(
        "digest",
        organisation=organisation,
        partnership_name=partnership_name,
        month=blocks[0].period,
        blocks=shown,
        teams=by_team,
        teams_period=blocks[1].period if len(blocks) > 1 else None,
        shown_from=disclosure.SHOWN_FROM,
        method=disclosure.METHOD,
    )


def digest_recipients(organisation: Organisation) -> dict[int | None, dict[int, str]]:
    """Who gets an organisation's digests, by partnership (None: the digest of every partnership it refers to)
    and user id, with the page each links to. The all-partnerships digest goes to its referrers (linking to their
    referrals; its practice champions, to its engagement). One digest per partnership goes to that partnership's
    leads, its managers and its advice organisation's supervisors (the engagement view): a lead of one
    partnership never reads the organisation's referrals to another's advice service. Active users only; each
    once per digest whatever roles they hold, and a lead who is also one of its referrers gets theirs only."""
    engagement_url = reverse("outcomes:engagement")
    referrals_url = reverse("referrals:list")
    partnerships = organisation.health_partnerships.all()
    memberships = (
        Membership.objects.filter(
            Q(role=Role.REFERRER, organisation=organisation)
            | Q(role=Role.MANAGER, partnership__in=partnerships)
            | Q(role=Role.SUPERVISOR, organisation__advice_partnerships__in=partnerships),
            user__is_active=True,
        )
        .annotate(
            led_partnership=F("partnership_id"),
            advised_partnership=F("organisation__advice_partnerships"),
        )
        .order_by("user_id", "role")
        .values_list("user_id", "role", "is_champion", "led_partnership", "advised_partnership")
    )
    own: dict[int, str] = {}
    leads: dict[int, dict[int, str]] = {}
    for user_id, role, is_champion, led, advised in memberships:
        if role == Role.REFERRER and is_champion:
            own[user_id] = f"{engagement_url}?organisation={organisation.pk}"
        elif role == Role.REFERRER:
            own.setdefault(user_id, referrals_url)
        else:
            leads.setdefault(led if role == Role.MANAGER else advised, {})[user_id] = engagement_url
    recipients: dict[int | None, dict[int, str]] = {None: own}
    for partnership_id, users in sorted(leads.items()):
        recipients[partnership_id] = {user_id: url for user_id, url in users.items() if user_id not in own}
    return recipients


def send_monthly_digests(*, year: int, month: int) -> int:
    """Queue the digest of one month, with its team breakdown, for every referrer, practice champion and lead
    (`digest_recipients`) of every health organisation that referred or had a case closed in it: its own
    people's across its partnerships, each partnership's leads' within that partnership. Idempotent: one message
    per organisation, month, partnership (a lead's) and user. Returns how many were queued."""
    period = Period.month(year, month)
    start, end = period.start, period.end
    active = Organisation.objects.filter(
        Q(referrals_made__submitted_at__date__range=(start, end))
        | Q(referrals_made__case__closed_at__date__range=(start, end)),
        kind=Organisation.Kind.HEALTH,
    ).distinct()
    queued = 0
    running_figures.refresh_pending()  # once, before any organisation's figures are read
    for organisation in active:
        for partnership_id, recipients in digest_recipients(organisation).items():
            if not recipients:
                continue
            if partnership_id is None:
                named, scope = organisation, ""
            else:
                named, scope = _digest_organisation(organisation.pk, partnership_id), f"partnership:{partnership_id}:"
            # Named: a lead gets one for each organisation and partnership they lead.
            subject, body = _digest_text(organisation=named, year=year, month=month, partnership_id=partnership_id)
            users = User.objects.in_bulk(list(recipients))
            with transaction.atomic():
                for user_id, url in recipients.items():
                    message_queue(
                        recipient=users[user_id],
                        kind=MessageKind.DIGEST,
                        key=f"{DIGEST_KEY}{organisation.pk}:{start:%Y-%m}:{scope}user:{user_id}",
                        subject=subject,
                        body=body,
                        url=url,
                    )
                    queued += 1
    return queued


def send_daily_reminders(*, today: date, days_ahead: int = 2) -> int:
    """Remind referrers of evidence requests due within `days_ahead` days or overdue, and advisors of their
    deadlines due or overdue. One message per request (or per advisor) per day."""
    horizon = today + timedelta(days=days_ahead)
    queued = 0
    evidence = EvidenceRequest.objects.filter(
        state=EvidenceRequest.State.REQUESTED,
        due_date__lte=horizon,
        case__state__in=OPEN_CASE_STATES,
        case__referral__consent__withdrawn_at__isnull=True,
        # Not to a referrer who has since moved to another role or organisation: they can no longer open it.
        case__referral__in=Referral.objects.with_current_author().values("pk"),
    ).select_related("case__referral__patient", "case__referral__advice_organisation", "requested_from")
    with transaction.atomic():
        for request_ in evidence:
            referral = request_.case.referral
            overdue = request_.due_date < today
            message_queue(
                recipient=request_.requested_from,
                kind=MessageKind.EVIDENCE_REMINDER,
                key=f"evidence_reminder:{request_.pk}:{today:%Y-%m-%d}",
                subject=render_subject("evidence_reminder", referral=referral, overdue=overdue),
                body=render_message("evidence_reminder", referral=referral, evidence=request_, overdue=overdue),
                url=reverse("casework:evidence_detail", args=[request_.pk]),
                referral_id=referral.pk,
            )
            queued += 1
    deadlines = (
        Deadline.objects.filter(done_at__isnull=True, due_date__lte=horizon, case__state__in=OPEN_CASE_STATES)
        .values("case__advisor")
        .annotate(due=Count("pk", filter=Q(due_date__gte=today)), overdue=Count("pk", filter=Q(due_date__lt=today)))
    )
    advisors = User.objects.in_bulk([row["case__advisor"] for row in deadlines])
    with transaction.atomic():
        for row in deadlines:
            counts = {"overdue": row["overdue"], "due": row["due"], "horizon": horizon}
            message_queue(
                recipient=advisors[row["case__advisor"]],
                kind=MessageKind.DEADLINE_REMINDER,
                key=f"deadline_reminder:user:{row['case__advisor']}:{today:%Y-%m-%d}",
                subject=render_subject("deadline_reminder", **counts),
                body=render_message("deadline_reminder", **counts),
                url=reverse("casework:home"),
            )
            queued += 1
    return queued


def figures_rebuild(*, partnership_id: int | None = None) -> int:
    """Work out the running totals of the figures again from the raw tables (outcomes.running_figures), for one
    partnership or all: after a bulk load that bypassed the models (seed_scale), after a change to what a
    figure counts, or to check them. Returns how many referrals were counted."""
    return running_figures.rebuild(partnership_id=partnership_id)

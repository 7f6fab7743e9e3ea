import re
from datetime import date

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, Upper
from django.utils import timezone

from hjp.accounts.models import Membership, Organisation, Partnership, Profession, Role, Team
from hjp.accounts.roles import roles_for
from hjp.core import appeal_clock
from hjp.core.dates import format_date
from hjp.core.models import TimeStampedModel
from hjp.core.redaction import ErasureReason
from hjp.core.storage import private_storage
from referrals.validators import validate_not_in_future


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REDIRECTED = "redirected", "Redirected"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


# HL7 FHIR Task.status for each state, so an integration can map them one to one.
FHIR_TASK_STATUS = {
    ReferralStatus.DRAFT: "draft",
    ReferralStatus.SUBMITTED: "requested",
    ReferralStatus.ACCEPTED: "accepted",
    ReferralStatus.DECLINED: "rejected",
    ReferralStatus.REDIRECTED: "rejected",
    ReferralStatus.IN_PROGRESS: "in-progress",
    ReferralStatus.CLOSED: "completed",
    ReferralStatus.CANCELLED: "cancelled",
    ReferralStatus.ENTERED_IN_ERROR: "entered-in-error",
}

OPEN_STATUSES = (ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)


class DeclineReason(models.TextChoices):
    """Why a referral is declined at triage: kept as a code on the status change (for reports), beside the
    advisor's explanation. The referrer reads both on the referral's timeline."""

    OUT_OF_SCOPE = "out_of_scope", "Outside the advice we give"
    OUT_OF_AREA = "out_of_area", "Patient lives outside our area"
    ALREADY_HELPED = "already_helped", "Patient already has an adviser for this"
    NOT_ENOUGH_INFORMATION = "not_enough_information", "Not enough information to act on"
    PATIENT_DECLINED = "patient_declined", "Patient did not want help when contacted"
    NO_CAPACITY = "no_capacity", "No capacity to take new cases"
    OTHER = "other", "Other"


class CaseStatus(models.TextChoices):
    """The finer status of an open case that the referrer can read (FHIR Task.businessStatus). The case's
    lifecycle in casework sets it (casework.services.lifecycle): blank unless the referral is accepted or in
    progress."""

    AWAITING_FIRST_CONTACT = "awaiting_first_contact", "Awaiting first contact"
    GATHERING_EVIDENCE = "gathering_evidence", "Gathering evidence"
    CLAIM_LODGED = "claim_lodged", "Claim or reconsideration lodged"
    APPEAL_LODGED = "appeal_lodged", "Appeal lodged"
    TRIBUNAL_LISTED = "tribunal_listed", "Tribunal listed"
    AWAITING_DECISION = "awaiting_decision", "Awaiting decision"
    ON_HOLD = "on_hold", "On hold"


class KnownDeadlineKind(models.TextChoices):
    """What the date a referrer knows of is: the appeal clock runs from a decision letter's date."""

    DECISION_LETTER = "decision_letter", "The date of a benefit decision letter"
    DUE = "due", "The date something must be done by"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"


class Setting(models.TextChoices):
    PRIMARY_CARE = "primary_care", "Primary care"
    INPATIENT = "inpatient", "Inpatient"
    OUTPATIENT = "outpatient", "Outpatient"
    MENTAL_HEALTH = "mental_health", "Mental health"
    COMMUNITY = "community", "Community"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"
    VIA_REFERRER = "via_referrer", "Through the referrer or ward"


class Sex(models.TextChoices):
    """Recorded only for monitoring equity of access (DESIGN.md: optional, never required). Blank means not
    asked or not recorded; "prefer not to say" is the patient's own answer."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    ANOTHER = "another", "Another, for example intersex, or not listed"
    PREFER_NOT_TO_SAY = "prefer_not_to_say", "Prefers not to say"


class ProblemCategory(models.Model):
    """A reference list admins keep: benefits, debt, housing, ..."""

    # The code of the benefits category: its sub-categories are the benefits a money outcome can name.
    BENEFITS = "benefits"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "problem categories"

    def __str__(self):
        return self.name


class ProblemSubCategory(models.Model):
    """A finer problem within a category (PIP within Benefits), that a case issue can name. A reference list
    admins keep beside the categories; the benefits category's sub-categories are the benefits."""

    category = models.ForeignKey(ProblemCategory, on_delete=models.PROTECT, related_name="sub_categories")
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "problem sub-category"
        verbose_name_plural = "problem sub-categories"
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="sub_category_unique_name_per_category")
        ]

    def __str__(self):
        return self.name


# What a page reads to name a patient (`Patient.__str__`: the name, or the notice of its removal).
PATIENT_NAME_FIELDS = ("given_name", "family_name", "redacted_at", "redaction_reason")


def patient_name_fields(path: str) -> tuple[str, ...]:
    """For a list read with `.only()`: the relation `path` to a patient ("referral__patient") and what naming the
    patient reads. The busiest lists (referrals.selectors, casework.selectors: the `_*_ROW` tuples) read only
    what their rows show: a row with its case, referral, patient and people is otherwise a hundred and more
    columns, each compiled, planned, sent and made a model field on every request, for the dozen a page shows. A
    field a template reads that a list does not name costs a query a row, which the pages' pinned query counts
    catch (tests/casework/test_queries.py, tests/core/test_page_budget.py)."""
    return (path, *(f"{path}__{field}" for field in PATIENT_NAME_FIELDS))


class Patient(TimeStampedModel):
    """The person referred. Everything but the deprivation decile is removed when consent is withdrawn or the
    retention period ends (`referrals.services.erasure`): `redacted_at` and `redaction_reason` say when and why."""

    audit_referral = "referral__id"

    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_not_in_future])
    nhs_number = models.CharField("NHS number", max_length=10, blank=True, db_index=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    preferred_contact_method = models.CharField(max_length=20, choices=ContactMethod.choices, blank=True)
    contact_times = models.CharField("best times to contact", max_length=200, blank=True)
    may_leave_message = models.BooleanField("messages may be left", default=False)
    language = models.CharField("preferred language", max_length=60, blank=True, default="English")
    interpreter_needed = models.BooleanField(default=False)
    access_needs = models.TextField(blank=True)
    sex = models.CharField(max_length=30, choices=Sex.choices, blank=True)
    ethnicity = models.CharField(max_length=60, blank=True)
    deprivation_decile = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Index of Multiple Deprivation decile, 1 (most deprived) to 10."
    )
    redacted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    redaction_reason = models.CharField(max_length=20, choices=ErasureReason.choices, blank=True)

    class Meta:
        # The data protection role: granted to a user in the admin (hjp.accounts roles are memberships; this is not).
        permissions = [("subject_access", "Can find any patient, export what is held about them and who looked")]
        indexes = [
            # A search by part of a name (icontains: UPPER(name::text) LIKE UPPER('%word%')) reads these trigram
            # indexes, not every patient. PostgreSQL only (pg_trgm): migration 0012 leaves them out on SQLite.
            GinIndex(OpClass(Upper("given_name"), name="gin_trgm_ops"), name="patient_given_name_trgm"),
            GinIndex(OpClass(Upper("family_name"), name="gin_trgm_ops"), name="patient_family_name_trgm"),
            # Finding the same patient (duplicates, subject access): name and date of birth.
            models.Index(fields=["date_of_birth"], name="patient_date_of_birth_idx"),
            # The same name in any case and date of birth (referrals.selectors._SamePatient, at triage and when a
            # referral is sent): one entry a patient, where the date of birth alone has forty at a million.
            models.Index(Upper("family_name"), Upper("given_name"), "date_of_birth", name="patient_same_person_idx"),
            # The caseload sorted by name (casework.selectors.CASE_SORTS), a page at a time.
            models.Index(fields=["family_name", "given_name", "id"], name="patient_name_idx"),
            # The patients who need an interpreter (the triage count of them: casework.selectors.triage_counts).
            models.Index(fields=["id"], condition=Q(interpreter_needed=True), name="patient_interpreter_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(redacted_at__isnull=True, redaction_reason="")
                | Q(redacted_at__isnull=False) & ~Q(redaction_reason=""),
                name="patient_redacted_says_why",
            ),
            models.CheckConstraint(
                condition=Q(deprivation_decile__isnull=True) | Q(deprivation_decile__gte=1, deprivation_decile__lte=10),
                name="patient_deprivation_decile_1_to_10",
            ),
        ]

    def __str__(self):
        return self.removal_notice if self.redacted_at else f"{self.given_name} {self.family_name}"

    @property
    def removal_notice(self) -> str:
        """What pages show in place of the patient's details once they are removed ("" while they are not)."""
        if not self.redacted_at:
            return ""
        reason = ErasureReason(self.redaction_reason).label
        return f"Details removed ({reason} on {format_date(timezone.localdate(self.redacted_at))})"

    @property
    def full_name(self) -> str:
        return str(self)

    @property
    def initials(self) -> str:
        """Enough for the referrer to recognise their patient in a message, without the full name."""
        return "".join(f"{part[:1].upper()}." for part in (self.given_name, self.family_name) if part)


class ReferralQuerySet(models.QuerySet):
    """Who may see a referral, written once. Every list, count, lookup and per-object "may they see it"
    question goes through `visible_to`; action rules (may cancel, may withdraw consent) live in permissions."""

    def visible_to(self, user) -> "ReferralQuerySet":
        """Referrals the user may see: their own (drafts included); their organisation's where it shares
        visibility (not drafts); and, for advisors and supervisors, what was sent to their advice
        organisation (not drafts), or handed over to it by another (`Handover.to_organisation`).

        Access follows the user's current role, not authorship alone: the referrer side needs a referrer
        membership today in the referral's referring organisation. A referrer who moved to another role or
        organisation, or whose membership ended, no longer sees the referrals they made there (their
        authorship stays on the record). `referrals.permissions.is_author` is the same rule for one referral."""
        roles = roles_for(user)
        sent = ~Q(status=ReferralStatus.DRAFT)
        visible = Q(pk__in=[])
        if roles.referrer_org_ids:
            visible |= Q(referrer_id=user.pk, referring_organisation_id__in=roles.referrer_org_ids)
            if roles.shared_visibility_org_ids:
                visible |= sent & Q(referring_organisation_id__in=roles.shared_visibility_org_ids)
        if roles.advice_org_ids:
            visible |= sent & Q(advice_organisation_id__in=roles.advice_org_ids)
            # A partner advice organisation in hjp that a referral was handed over to (with the patient's
            # consent to share with it) sees that referral while the handover stands: waiting for its answer,
            # accepted, or closed with its outcome; not once it declined it, nor once consent was withdrawn. The
            # organisation that handed it over keeps what it saw.
            visible |= sent & Q(
                pk__in=Handover.objects.filter(
                    to_organisation_id__in=roles.advice_org_ids, state__in=PARTNER_SEES_STATES
                ).values("referral_id")
            )
        return self.filter(visible)

    def outcomes_visible_to(self, user) -> "ReferralQuerySet":
        """Referrals whose outcomes the user may read: those `visible_to` them, and, for a practice champion
        (`Membership.is_champion`), every sent referral of the organisation they champion. The champion's extra
        referrals show their reference, team and outcomes only: the patient's details stay `visible_to`'s (a
        champion of an organisation that shares visibility sees them through that clause, as any colleague).
        `referrals.permissions.is_champion_for` is the same clause for one referral."""
        champion_org_ids = roles_for(user).champion_org_ids
        if not champion_org_ids:
            return self.visible_to(user)
        return self.visible_to(user) | self.filter(
            ~Q(status=ReferralStatus.DRAFT), referring_organisation_id__in=champion_org_ids
        )

    def with_current_author(self) -> "ReferralQuerySet":
        """Referrals whose author is still a referrer of the organisation they were made in: `visible_to`'s
        rule for the referrer side, asked of many authors at once (for messages addressed to them)."""
        return self.filter(
            Exists(
                Membership.objects.filter(
                    user_id=OuterRef("referrer_id"),
                    organisation_id=OuterRef("referring_organisation_id"),
                    role=Role.REFERRER,
                )
            )
        )

    def received_by(self, user) -> "ReferralQuerySet":
        """The advice side of `visible_to`: referrals sent to the user's advice organisations (a draft has
        not been sent, so the advice service does not know it). Written as that one clause of `visible_to`, the
        same rows as `visible_to(user).filter(advice_organisation_id__in=...)`, so that a list of them is read in
        the order of its index (no OR with the handovers' subquery)."""
        return self.filter(~Q(status=ReferralStatus.DRAFT), advice_organisation_id__in=roles_for(user).advice_org_ids)


# The referral lists' order: newest first, by when it was sent (a draft, never sent, by when it was begun).
# Never null, so that one keyset range (hjp.core.pagination) and one index serve it on PostgreSQL and SQLite.
SORT_AT = Coalesce("submitted_at", "created_at")


class Referral(TimeStampedModel):
    audit_referral = "id"

    reference = models.CharField(max_length=12, unique=True, help_text="Pseudonymous; safe to show managers.")
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="referral")
    # No index of their own for these four keys: an index of Meta.indexes leads with each (the referrer's, the
    # organisation's and the advice service's lists, the team's latest referral). Every index of a table is one
    # more the planner weighs for each mention of it; at a million referrals these four cost 40% of the triage
    # query's planning.
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made", db_index=False
    )
    referring_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referrals_made", db_index=False
    )
    referring_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals_made", db_index=False
    )
    referrer_profession = models.CharField(max_length=20, choices=Profession.choices)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="referrals")
    advice_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referrals_received", db_index=False
    )
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT)
    case_status = models.CharField(max_length=30, choices=CaseStatus.choices, blank=True)
    categories = models.ManyToManyField(ProblemCategory, related_name="referrals", blank=True)
    description = models.TextField("what the patient needs help with", blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    known_deadline = models.DateField(null=True, blank=True)
    known_deadline_kind = models.CharField(max_length=20, choices=KnownDeadlineKind.choices, blank=True)
    known_deadline_note = models.CharField(max_length=200, blank=True)
    setting = models.CharField(max_length=20, choices=Setting.choices, blank=True)
    expected_discharge_date = models.DateField(null=True, blank=True)
    duplicate_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Goes up on every save of the draft: an edit form loaded at an older version is refused (hjp.core.versioning).
    version = models.PositiveIntegerField(default=1)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        indexes = [
            models.Index(fields=["advice_organisation", "status"], name="referral_advice_status_idx"),
            # A practice's referrals in one state, and a referrer's own among them (referrals.selectors
            # .referral_status_counts: each count stops after its cap, reading this index alone).
            models.Index(
                fields=["referring_organisation", "status", "referrer"],
                include=["id"],
                name="referral_org_status_ref_idx",
            ),
            # The referral lists' order (newest first, SORT_AT), for each way a user sees referrals.
            models.Index(F("advice_organisation"), SORT_AT.desc(), F("id").desc(), name="referral_advice_sort_idx"),
            models.Index(F("referring_organisation"), SORT_AT.desc(), F("id").desc(), name="referral_org_sort_idx"),
            models.Index(F("referrer"), SORT_AT.desc(), F("id").desc(), name="referral_referrer_sort_idx"),
            # A team's latest referral (outcomes.selectors.engagement: teams that have not referred for 90 days).
            models.Index(fields=["referring_team", "submitted_at"], name="referral_team_sent_idx"),
            # Polling for changes: the FHIR Task search's _lastUpdated range and its keyset order (updated_at, id).
            models.Index(fields=["updated_at", "id"], name="referral_updated_idx"),
            # The triage queue (casework.selectors.triage_streams), oldest first: all waiting (and those waiting
            # over a week), the urgent, and those with a known deadline.
            models.Index(
                fields=["advice_organisation", "submitted_at", "id"],
                condition=Q(status=ReferralStatus.SUBMITTED),
                name="referral_waiting_idx",
            ),
            models.Index(
                fields=["advice_organisation", "submitted_at", "id"],
                condition=Q(status=ReferralStatus.SUBMITTED, urgency=Urgency.URGENT),
                name="referral_waiting_urgent_idx",
            ),
            models.Index(
                fields=["advice_organisation", "submitted_at", "id"],
                condition=Q(status=ReferralStatus.SUBMITTED, known_deadline__isnull=False),
                name="referral_waiting_deadline_idx",
            ),
        ]
        constraints = [
            # What a case's foreign key on (referral, advice_organisation) refers to, on PostgreSQL (casework's
            # migration 0011), so that the case's copy of the service stays the referral's. With the status, it
            # also answers "may this user see this referral's case?" from the index alone.
            models.UniqueConstraint(
                fields=["id", "advice_organisation"], include=["status"], name="referral_service_key"
            ),
            models.CheckConstraint(
                # A discarded draft is cancelled without ever having been sent.
                condition=Q(status__in=[ReferralStatus.DRAFT, ReferralStatus.CANCELLED])
                | Q(submitted_at__isnull=False),
                name="referral_sent_has_submitted_at",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="referral_version_positive"),
        ]

    def validate_constraints(self, exclude=None):
        # referral_service_key holds by the primary key alone: no query of its own at every save of a draft.
        super().validate_constraints(exclude={*(exclude or ()), "id"})

    def __str__(self):
        return self.reference

    @property
    def fhir_status(self) -> str:
        return FHIR_TASK_STATUS[ReferralStatus(self.status)]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def known_deadline_from_letter(self) -> bool:
        return bool(self.known_deadline) and self.known_deadline_kind == KnownDeadlineKind.DECISION_LETTER

    @property
    def known_deadline_due(self) -> date | None:
        """When the known deadline falls due: a mandatory reconsideration one calendar month after a decision
        letter (the appeal clock), otherwise the date given."""
        if self.known_deadline_from_letter:
            return appeal_clock.reconsideration_due(self.known_deadline)
        return self.known_deadline


class Consent(TimeStampedModel):
    audit_referral = "referral_id"

    class GivenBy(models.TextChoices):
        PATIENT = "patient", "The patient"
        REPRESENTATIVE = "representative", "A representative with authority"

    class Method(models.TextChoices):
        VERBAL = "verbal", "Verbal"
        WRITTEN = "written", "Written"

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="consent")
    given_by = models.CharField(max_length=20, choices=GivenBy.choices, default=GivenBy.PATIENT)
    representative_name = models.CharField(max_length=150, blank=True)
    representative_authority = models.CharField(
        max_length=200, blank=True, help_text="e.g. lasting power of attorney, appointee"
    )
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    given_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consents_recorded"
    )
    share_with_advice_service = models.BooleanField("1. Share this referral with the advice service", default=False)
    medical_evidence = models.BooleanField(
        "2. The advisor may ask me (the referrer) for medical evidence", default=False
    )
    outcome_feedback = models.BooleanField("3. Outcomes may be reported back to the referrer", default=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_withdrawals_recorded",
    )
    withdrawal_note = models.TextField(blank=True)

    def __str__(self):
        return f"Consent for {self.referral.reference}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def allows_evidence_requests(self) -> bool:
        return self.medical_evidence and not self.is_withdrawn

    @property
    def allows_outcome_feedback(self) -> bool:
        return self.outcome_feedback and not self.is_withdrawn


class ConsentScope(models.TextChoices):
    """The scopes that can be given later or withdrawn on their own; scope 1 (sharing the referral) is the
    referral itself, and only a withdrawal of all consent ends it."""

    MEDICAL_EVIDENCE = "medical_evidence", "2. The advisor may ask the referrer for medical evidence"
    OUTCOME_FEEDBACK = "outcome_feedback", "3. Outcomes may be reported back to the referrer"


class ConsentChange(models.Model):
    """Scope 2 or 3 given later, or withdrawn on its own, on the patient's word: recorded like the original
    consent (who gave it, how, when, who recorded it), and kept as the consent's history."""

    audit_referral = "consent__referral_id"

    class Method(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        PHONE = "phone", "By phone"
        WRITTEN = "written", "In writing"

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="changes")
    scope = models.CharField(max_length=20, choices=ConsentScope.choices)
    given = models.BooleanField(help_text="Given (true) or withdrawn (false).")
    given_by = models.CharField(max_length=20, choices=Consent.GivenBy.choices, default=Consent.GivenBy.PATIENT)
    representative_name = models.CharField(max_length=150, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices)
    said_at = models.DateTimeField(help_text="When the patient (or their representative) said so.")
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(given_by="representative") | Q(representative_name=""),
                name="consent_change_representative_only_when_given_by_one",
            )
        ]

    def __str__(self):
        return f"{self.get_scope_display()} {'given' if self.given else 'withdrawn'}"


class ReferralStatusChange(models.Model):
    """One step of the referral's timeline: who moved it, when, and why. A decline keeps its coded reason
    (`decline_reason`) apart from the advisor's words (`reason`), so declines can be counted by reason."""

    audit_referral = "referral_id"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    # None for the one move hjp makes itself: discarding a draft nobody sent (referrals.services.retention).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decline_reason = models.CharField(max_length=30, choices=DeclineReason.choices, blank=True)
    reason = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decline_reason="") | Q(to_status=ReferralStatus.DECLINED),
                name="status_change_decline_reason_only_on_decline",
            )
        ]

    def __str__(self):
        return f"{self.referral.reference}: {self.from_status or 'new'} -> {self.to_status}"

    @property
    def full_reason(self) -> str:
        """The coded reason and the explanation as one text, as the referrer's notice gives them."""
        if not self.decline_reason:
            return self.reason
        return f"{self.get_decline_reason_display()}. {self.reason}".strip()


# The UK's professional registers, as the identifier systems of UK Core's Practitioner name them, with the form
# of a registration number (checked where hjp is given one): GMC 7 digits; NMC PIN 2 digits, a letter, 4 digits,
# a letter; HCPC 2 letters and digits; GPhC 7 digits.
PROFESSIONAL_REGISTERS = {
    "https://fhir.hl7.org.uk/Id/gmc-number": ("GMC number", r"\d{7}"),
    "https://fhir.hl7.org.uk/Id/nmc-number": ("NMC PIN", r"\d{2}[A-Z]\d{4}[A-Z]"),
    "https://fhir.hl7.org.uk/Id/hcpc-number": ("HCPC number", r"[A-Z]{2}\d{5,6}"),
    "https://fhir.hl7.org.uk/Id/gphc-number": ("GPhC number", r"\d{7}"),
}


class ReferringPractitioner(models.Model):
    """Who referred, as the referring system names them, when a system sent the referral: the referral's
    `referrer` is then the API client's system account, and this is the person behind it (their name, their
    role or profession as the system gives it, and their professional registration, e.g. a GMC number)."""

    audit_referral = "referral_id"

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="referring_practitioner")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=200, blank=True, help_text="As the referring system describes it.")
    identifier_system = models.CharField(max_length=200, blank=True)
    identifier = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(identifier="") | ~Q(identifier_system=""), name="referring_practitioner_identifier_system"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def register_label(self) -> str:
        return PROFESSIONAL_REGISTERS.get(self.identifier_system, ("Identifier", ""))[0]

    def clean(self):
        errors = {}
        if not self.name.strip():
            errors["name"] = "Give the referring practitioner's name."
        if self.identifier and not self.identifier_system:
            errors["identifier_system"] = "Say whose identifier this is: its system (e.g. the GMC's)."
        if self.identifier_system and not re.fullmatch(r"(https?://|urn:(oid|uuid):)\S+", self.identifier_system):
            errors["identifier_system"] = "An identifier's system is a URI (https://... or urn:oid:...)."
        register = PROFESSIONAL_REGISTERS.get(self.identifier_system)
        if register and not re.fullmatch(register[1], self.identifier.strip().upper()):
            errors["identifier"] = f"{self.identifier!r} is not a {register[0]}."
        if errors:
            raise ValidationError(errors)


class HandoverState(models.TextChoices):
    SENT = "sent", "Sent, waiting for the partner"
    ACCEPTED = "accepted", "Accepted by the partner"
    DECLINED = "declined", "Declined by the partner"
    CLOSED = "closed", "Closed: outcome recorded"
    STOPPED = "stopped", "Stopped: consent withdrawn"


OPEN_HANDOVER_STATES = (HandoverState.SENT, HandoverState.ACCEPTED)
# The handovers through which the partner organisation sees the referral (Referral.objects.visible_to).
PARTNER_SEES_STATES = (HandoverState.SENT, HandoverState.ACCEPTED, HandoverState.CLOSED)


class HandoverOutcome(models.TextChoices):
    """What became of a referral handed over to a partner, as the partner reports it."""

    RESOLVED = "resolved", "Helped: problem resolved"
    ADVICE_GIVEN = "advice_given", "Advice given"
    REFERRED_ON = "referred_on", "Referred on again"
    NO_CONTACT = "no_contact", "Could not contact the patient"
    PATIENT_WITHDREW = "patient_withdrew", "Patient no longer wanted help"
    OTHER = "other", "Other"


class HandoverQuerySet(models.QuerySet):
    """Who may see a handover (its page, its actions): the advice workers of the organisation that handed it
    over and of the one it went to, while they may see its referral (`Referral.objects.visible_to`). The
    referrer reads its answers on the referral's timeline."""

    def visible_to(self, user) -> "HandoverQuerySet":
        advice_org_ids = roles_for(user).advice_org_ids
        return self.filter(
            Q(from_organisation_id__in=advice_org_ids) | Q(to_organisation_id__in=advice_org_ids),
            referral__in=Referral.objects.visible_to(user).values("pk"),
        )


class Handover(models.Model):
    """A referral handed to a partner provider with the patient's consent to share it with that provider (who
    said so, how and when, recorded by `made_by`). To another advice organisation in hjp (`to_organisation`):
    that organisation sees the referral (`Referral.objects.visible_to`), accepts or declines it in its triage
    and records its outcome. Outside hjp (no `to_organisation`): the partner downloads a summary once, through
    a signed link that expires (`link_nonce`, `link_expires_at`, `link_used_at`), and the advisor who handed it
    over records the outcome the partner reports. casework's onward referral and redirect make these."""

    State = HandoverState
    Outcome = HandoverOutcome

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="handovers")
    from_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="handovers_made")
    to_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="handovers_received"
    )
    provider_name = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=HandoverState.choices, default=HandoverState.SENT)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(default=timezone.now)
    consent_given_by = models.CharField(max_length=20, choices=Consent.GivenBy.choices)
    consent_method = models.CharField(max_length=10, choices=ConsentChange.Method.choices)
    consent_said_at = models.DateTimeField(help_text="When the patient agreed to share with this provider.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=HandoverOutcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome_at = models.DateTimeField(null=True, blank=True)
    link_nonce = models.CharField(max_length=32, blank=True, editable=False)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    link_used_at = models.DateTimeField(null=True, blank=True)

    objects = HandoverQuerySet.as_manager()
    audit_referral = "referral_id"  # hjp.audit: the patient record its audit entries are about

    class Meta:
        ordering = ["made_at", "pk"]
        indexes = [models.Index(fields=["to_organisation", "state"], name="handover_to_state_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[HandoverState.SENT, HandoverState.STOPPED])
                | Q(decided_at__isnull=False, decided_by__isnull=False),
                name="handover_decided_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(state=HandoverState.CLOSED)
                | Q(outcome_at__isnull=False, outcome_by__isnull=False) & ~Q(outcome=""),
                name="handover_closed_has_outcome",
            ),
            models.CheckConstraint(
                condition=Q(to_organisation__isnull=True) | Q(link_nonce=""), name="handover_link_only_outside"
            ),
            # One open handover of a referral to one organisation at a time.
            models.UniqueConstraint(
                fields=["referral", "to_organisation"],
                condition=Q(state__in=[HandoverState.SENT, HandoverState.ACCEPTED]),
                name="handover_one_open_per_partner",
            ),
        ]

    def __str__(self):
        return f"{self.referral} to {self.provider_name}"

    @property
    def is_inside(self) -> bool:
        return self.to_organisation_id is not None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_HANDOVER_STATES


class ThreadSide(models.TextChoices):
    REFERRER = "referrer", "Referrer"
    ADVICE = "advice", "Advice service"


class ReferralMessage(TimeStampedModel):
    """One message of the conversation on a sent referral (and so its case), between the referrer's side and the
    advice organisation's staff. Its document, if any, is checked, encrypted and stored as evidence documents are
    (hjp/core/uploads.py, hjp/core/storage.py). An erasure (consent withdrawn, retention) replaces the text with a
    placeholder and removes the document; the row stays, so the conversation's length is still counted."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="thread")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Which side wrote it, fixed when written: the page shows it without asking about the author's roles again.
    side = models.CharField(max_length=10, choices=ThreadSide.choices)
    text = models.TextField(blank=True)
    attachment = models.FileField(storage=private_storage, upload_to="messages/%Y/%m/", blank=True, max_length=200)
    attachment_type = models.CharField(max_length=50, blank=True)
    audit_referral = "referral_id"  # hjp.audit: the patient record its audit entries are about

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(F("referral"), F("created_at").desc(), F("id").desc(), name="thread_newest_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(text="") | ~Q(attachment=""), name="thread_message_has_content"),
        ]

    def __str__(self):
        return f"Message {self.pk} on {self.referral_id}"


# The advice clinics' and the service pages' models live beside their services (referrals/clinics/,
# referrals/service_page/); Django finds them through here.
from referrals.clinics.models import ClinicBooking, ClinicSession  # noqa: E402, F401


class DeprivationArea(models.Model):
    """An English lower layer super output area (LSOA, 2011 boundaries) and its Index of Multiple Deprivation 2019
    decile, 1 (most deprived) to 10: reference data loaded by `manage.py load_imd` (referrals.deprivation)."""

    lsoa_code = models.CharField("LSOA code (2011)", max_length=9, primary_key=True)
    imd_decile = models.PositiveSmallIntegerField("IMD 2019 decile")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(imd_decile__gte=1, imd_decile__lte=10), name="imd_decile_1_to_10"),
        ]

    def __str__(self):
        return f"{self.lsoa_code}: decile {self.imd_decile}"


class PostcodeArea(models.Model):
    """A postcode (stored as referrals.validators.normalise_postcode writes it) and the LSOA (2011) it lies in: from
    the ONS postcode directory, loaded by `manage.py load_imd` with the IMD file."""

    postcode = models.CharField(max_length=8, primary_key=True)
    lsoa_code = models.CharField("LSOA code (2011)", max_length=9)

    def __str__(self):
        return f"{self.postcode}: {self.lsoa_code}"


from referrals.service_page.models import ServicePage  # noqa: E402, F401

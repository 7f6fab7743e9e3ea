"""Casework: the case an advisor opens on accepting a referral, and everything worked on it."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from hjp.accounts.models import Organisation
from hjp.accounts.roles import roles_for
from hjp.core.dates import format_date
from hjp.core.encrypted import EncryptedTextField
from hjp.core.models import EnteredInError, TimeStampedModel, entered_in_error_constraint
from hjp.core.storage import EncryptedPrivateStorage, private_storage
from hjp.notifications.webhooks import endpoint_problem
from referrals.models import ProblemCategory, ProblemSubCategory, Referral

# Migration 0001 names the storage of the evidence field by this name.
PrivateMediaStorage = EncryptedPrivateStorage


class AdviceProvider(TimeStampedModel):
    """A partner advice provider that referrals and cases can be passed on to. Supervisors keep the list (by
    hand, or imported from an Open Referral UK feed: casework.oruk)."""

    class Capacity(models.TextChoices):
        OPEN = "open", "Open to new referrals"
        CLOSED = "closed", "Closed to new referrals"

    advice_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="advice_providers",
        limit_choices_to={"kind": Organisation.Kind.ADVICE},
    )
    name = models.CharField(max_length=200)
    specialisms = models.CharField(max_length=300, blank=True, help_text="e.g. immigration, housing possession")
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    how_to_refer = models.TextField(blank=True)
    area = models.CharField(max_length=200, blank=True, help_text="Where it helps people, e.g. Leeds, West Yorkshire")
    capacity = models.CharField(max_length=10, choices=Capacity.choices, default=Capacity.OPEN)
    takes_pro_bono = models.BooleanField("takes volunteer or pro bono cases", default=False)
    # Another advice organisation in this hjp: a handover reaches its triage (referrals.models.Handover).
    partner_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="listed_as_provider",
        limit_choices_to={"kind": Organisation.Kind.ADVICE},
        help_text="Set when the provider uses hjp too: referrals handed over reach its triage.",
    )
    # The service's id in the Open Referral UK feed it was imported from: a later import updates it.
    oruk_id = models.CharField("Open Referral UK id", max_length=100, blank=True)
    is_active = models.BooleanField("in use", default=True)
    # A provider outside hjp with a FHIR server: a handover is POSTed to it as a transaction Bundle, signed with
    # the secret (api.fhir.partners). The secret is encrypted at rest (hjp.core.encrypted).
    fhir_base_url = models.URLField(
        "FHIR base URL",
        max_length=300,
        blank=True,
        help_text="The provider's FHIR R4 server (https://). Referrals handed over are sent to it.",
    )
    fhir_signing_secret = EncryptedTextField(
        "FHIR signing secret",
        blank=True,
        help_text="Shared with the provider: it checks each request's Hjp-Signature with it.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["advice_organisation", "name"], name="provider_unique_name_per_org"),
            models.UniqueConstraint(
                fields=["advice_organisation", "oruk_id"],
                condition=~Q(oruk_id=""),
                name="provider_unique_oruk_id_per_org",
            ),
            models.CheckConstraint(
                condition=Q(partner_organisation__isnull=True) | ~Q(partner_organisation=F("advice_organisation")),
                name="provider_partner_is_another_org",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.fhir_base_url:
            problem = endpoint_problem(self.fhir_base_url)
            if problem:
                raise ValidationError({"fhir_base_url": problem.replace("The endpoint", "The FHIR base URL")})
            if self.partner_organisation_id:
                raise ValidationError({"fhir_base_url": "A provider that uses hjp gets handovers in hjp, not by FHIR."})
            if not self.fhir_signing_secret:
                raise ValidationError({"fhir_signing_secret": "Give the secret the provider checks signatures with."})

    @property
    def sends_by_fhir(self) -> bool:
        return bool(self.fhir_base_url) and self.partner_organisation_id is None


class CaseState(models.TextChoices):
    """Mirrors the referral: accepted (awaiting first contact), in progress, closed (or cancelled, when consent is
    withdrawn). The case lifecycle (casework.services.lifecycle.TRANSITIONS) moves the two together."""

    AWAITING_CONTACT = "awaiting_contact", "Awaiting first contact"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


OPEN_CASE_STATES = (CaseState.AWAITING_CONTACT, CaseState.IN_PROGRESS)


class ClosureReason(models.TextChoices):
    WORK_COMPLETED = "work_completed", "Work completed"
    ADVICE_GIVEN = "advice_given", "Advice given, no further action"
    REFERRED_ON = "referred_on", "Referred on to another provider"
    NO_CONTACT = "no_contact", "Could not contact the patient"
    PATIENT_WITHDREW = "patient_withdrew", "Patient no longer wants help"
    PATIENT_DIED = "patient_died", "Patient died"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
    OTHER = "other", "Other"


# The caseload's sort key "next deadline first, cases with none last": never null, so that one keyset range
# (hjp.core.pagination) and one index serve it on PostgreSQL and SQLite alike.
NEXT_DEADLINE_KEY = Coalesce("next_deadline", Value(date.max, output_field=models.DateField()))


class CaseQuerySet(models.QuerySet):
    """Who may see a case, written once: the advisors and supervisors of the advice organisation its
    referral was sent to (`Case.advice_organisation`, the case's own copy of it: a case's referral has been
    sent, so this is `Referral.objects.received_by` read from the case). Referrers see the referral, not the case."""

    def visible_to(self, user) -> "CaseQuerySet":
        return self.filter(advice_organisation_id__in=roles_for(user).advice_org_ids)


class Case(TimeStampedModel):
    """One per accepted referral. `version` goes up on every edit of the case or its issues, deadlines and
    appointments: an edit form carries the version it was loaded with and a stale one is refused."""

    audit_referral = "referral_id"

    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="case")
    # The advice organisation the referral was sent to, copied onto the case when it is first saved (`save`), so
    # that who may see a case (`visible_to`), a caseload and its counts are read from the case's own indexes.
    # A referral's service never changes once it is sent; on PostgreSQL a foreign key on (referral,
    # advice_organisation) holds the copy equal to the referral's all the same (migration 0011).
    advice_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="cases", editable=False, db_index=False
    )
    reference = models.CharField(max_length=12, unique=True)
    # No index of its own: case_advisor_state_idx leads with it (and each index is one more to plan with).
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    state = models.CharField(max_length=20, choices=CaseState.choices, default=CaseState.AWAITING_CONTACT)
    summary = models.TextField("case summary", blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closure_reason = models.CharField(max_length=30, choices=ClosureReason.choices, blank=True)
    closure_note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    # The due date of the earliest open deadline (none once all are settled), for the caseload's order and its
    # "due this week" filter. Kept by casework.services.common.refresh_next_deadline alone, in the transaction
    # of every service that adds or settles a deadline or closes or reopens the case.
    next_deadline = models.DateField(null=True, blank=True, editable=False)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [
            models.Index(fields=["advisor", "state"], name="case_advisor_state_idx"),
            # The caseload's default order, for one advisor and for the whole service.
            models.Index(
                F("advisor"), NEXT_DEADLINE_KEY, F("opened_at").desc(), F("id").desc(), name="case_advisor_due_idx"
            ),
            models.Index(NEXT_DEADLINE_KEY, F("opened_at").desc(), F("id").desc(), name="case_due_idx"),
            # An advisor's open cases, soonest next deadline first (casework.selectors.first_home_deadlines),
            # and the open cases of each state (the caseload's counts, up to their cap).
            models.Index(
                fields=["advisor", "next_deadline", "id"],
                condition=Q(state__in=OPEN_CASE_STATES),
                name="case_advisor_open_due_idx",
            ),
            # A service's cases (its own index, built without blocking writes: migration 0012), and its open
            # cases of each state (the caseload's counts, up to their cap).
            models.Index(fields=["advice_organisation"], name="case_service_idx"),
            models.Index(
                fields=["advice_organisation", "state"],
                condition=Q(state__in=OPEN_CASE_STATES),
                name="case_service_open_state_idx",
            ),
            # With the service (who may see the case), so that counting an advisor's open cases reads no table rows.
            models.Index(
                fields=["advisor", "state", "advice_organisation"],
                condition=Q(state__in=OPEN_CASE_STATES),
                name="case_advisor_open_service_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(state=CaseState.CLOSED, closed_at__isnull=False) & ~Q(closure_reason="")
                    | ~Q(state=CaseState.CLOSED) & Q(closed_at__isnull=True, closure_reason="")
                ),
                name="case_closed_has_reason_and_time",
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.IN_PROGRESS) | Q(first_contact_at__isnull=False),
                name="case_in_progress_has_first_contact",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="case_version_positive"),
        ]

    def __str__(self):
        return self.reference

    def save(self, *args, **kwargs):
        if self.advice_organisation_id is None:  # being opened: the service its referral was sent to
            self.advice_organisation_id = self.referral.advice_organisation_id
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        # The copy of the referral's service is no one's input: its foreign keys hold it, not a query of its own.
        super().clean_fields(exclude={*(exclude or ()), "advice_organisation"})

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CASE_STATES


class IssueStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    CLOSED_WITH_CASE = "closed", "Closed with the case"


class CaseIssue(TimeStampedModel):
    audit_referral = "case__referral_id"

    Status = IssueStatus

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="issues")
    category = models.ForeignKey(ProblemCategory, on_delete=models.PROTECT, related_name="case_issues")
    sub_category = models.ForeignKey(
        ProblemSubCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="case_issues"
    )
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=IssueStatus.OPEN, resolved_at__isnull=True)
                | Q(status__in=[IssueStatus.RESOLVED, IssueStatus.CLOSED_WITH_CASE], resolved_at__isnull=False),
                name="case_issue_resolved_has_time",
            )
        ]

    def __str__(self):
        return f"{self.category}: {self.sub_category}" if self.sub_category_id else str(self.category)

    def clean(self):
        if self.sub_category_id and self.category_id and self.sub_category.category_id != self.category_id:
            raise ValidationError({"sub_category": f"That sub-category is not part of {self.category.name}."})


class CaseNote(EnteredInError):
    """A note on the case's timeline. Never edited or deleted: one written in error is marked so (struck through,
    with who and why) by its author or a supervisor."""

    audit_referral = "case__referral_id"

    class Kind(models.TextChoices):
        CALL = "call", "Phone call"
        MEETING = "meeting", "Meeting"
        LETTER = "letter", "Letter or email"
        INTERNAL = "internal", "Internal note"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    occurred_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        # The case's timeline, newest first, a page at a time.
        indexes = [models.Index(F("case"), F("occurred_at").desc(), F("id").desc(), name="case_note_timeline_idx")]
        constraints = [entered_in_error_constraint("case_note")]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.case}"


class AppointmentKind(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "Phone"
    VIDEO = "video", "Video"


class Appointment(EnteredInError, TimeStampedModel):
    """An appointment with the patient. One booked in error is marked so (kept, struck through, with who and
    why) by whoever booked it or a supervisor; it is no longer the next appointment."""

    audit_referral = "case__referral_id"

    Kind = AppointmentKind

    class Attendance(models.TextChoices):
        BOOKED = "booked", "Booked"
        ATTENDED = "attended", "Attended"
        NOT_ATTENDED = "not_attended", "Did not attend"
        CANCELLED = "cancelled", "Cancelled"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="appointments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    starts_at = models.DateTimeField(db_index=True)
    duration_minutes = models.PositiveSmallIntegerField(default=45)
    place = models.CharField(max_length=200, blank=True, help_text="Address, room, or phone/video details.")
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    attendance = models.CharField(max_length=15, choices=Attendance.choices, default=Attendance.BOOKED)
    note = models.TextField(blank=True)
    # Who booked it (unknown for appointments booked before this was recorded): may mark it entered in error.
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            # The case's timeline, newest first, a page at a time.
            models.Index(F("case"), F("starts_at").desc(), F("id").desc(), name="appointment_timeline_idx"),
            # An advisor's diary: their appointments still booked, soonest first (the advisor's day).
            models.Index(
                fields=["advisor", "starts_at", "id"],
                condition=Q(attendance="booked", entered_in_error_at__isnull=True),
                name="appointment_advisor_booked_idx",
            ),
        ]
        constraints = [
            entered_in_error_constraint("appointment"),
            models.CheckConstraint(condition=Q(duration_minutes__gte=5), name="appointment_duration_at_least_5"),
            models.CheckConstraint(
                condition=~Q(kind=AppointmentKind.IN_PERSON) | ~Q(place=""), name="appointment_in_person_has_place"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}"


class DeadlineKind(models.TextChoices):
    TASK = "task", "Task"
    RECONSIDERATION = "reconsideration", "Mandatory reconsideration due"
    APPEAL = "appeal", "Tribunal appeal due"
    OTHER = "other", "Other deadline"


class Deadline(TimeStampedModel):
    """A deadline or task. Appeal-clock kinds derive `due_date` from `basis_date` (see appeal_clock).
    It is open until settled: done by the advisor, or closed with the case (the case closed, or stopped on a
    withdrawal of consent, with it still open). A settled deadline stays settled if the case is reopened."""

    audit_referral = "case__referral_id"

    class Settlement(models.TextChoices):
        DONE = "done", "Done"
        CLOSED_WITH_CASE = "closed_with_case", "Closed with the case"

    Kind = DeadlineKind
    APPEAL_CLOCK_KINDS = (Kind.RECONSIDERATION, Kind.APPEAL)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    issue = models.ForeignKey(CaseIssue, on_delete=models.SET_NULL, null=True, blank=True, related_name="deadlines")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TASK)
    title = models.CharField(max_length=200)
    basis_date = models.DateField(
        null=True,
        blank=True,
        help_text="Decision letter date (reconsideration) or reconsideration notice date (appeal).",
    )
    due_date = models.DateField(db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    settlement = models.CharField(max_length=20, choices=Settlement.choices, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        # The open deadlines by due date (the "see all" list of an advisor's deadlines due or overdue).
        indexes = [
            models.Index(
                fields=["due_date", "case", "id"], condition=Q(done_at__isnull=True), name="deadline_open_due_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=[DeadlineKind.RECONSIDERATION, DeadlineKind.APPEAL])
                | Q(basis_date__isnull=False),
                name="deadline_appeal_clock_has_basis",
            ),
            models.CheckConstraint(
                condition=Q(basis_date__isnull=True) | Q(due_date__gte=models.F("basis_date")),
                name="deadline_due_after_basis",
            ),
            models.CheckConstraint(
                condition=Q(done_at__isnull=True, done_by__isnull=True)
                | Q(done_at__isnull=False, done_by__isnull=False),
                name="deadline_done_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(done_at__isnull=True, settlement="") | Q(done_at__isnull=False) & ~Q(settlement=""),
                name="deadline_settled_says_how",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({format_date(self.due_date)})"

    @property
    def is_done(self) -> bool:
        """Settled, either way: nothing more is due."""
        return self.done_at is not None

    @property
    def closed_with_case(self) -> bool:
        return self.settlement == self.Settlement.CLOSED_WITH_CASE


class EvidenceState(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ANSWERED = "answered", "Answered"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class EvidenceRequestQuerySet(models.QuerySet):
    """Who may see an evidence request, written once: the referrer it is addressed to while they may still see
    its referral (`Referral.objects.visible_to`: a current referrer of the organisation that referred), and
    those who may see its case. Authorship alone gives nothing once the referrer's role has changed."""

    def addressed_to(self, user) -> "EvidenceRequestQuerySet":
        return self.filter(requested_from_id=user.pk, case__referral__in=Referral.objects.visible_to(user).values("pk"))

    def visible_to(self, user) -> "EvidenceRequestQuerySet":
        addressed = Q(requested_from_id=user.pk, case__referral__in=Referral.objects.visible_to(user).values("pk"))
        return self.filter(addressed | Q(case__in=Case.objects.visible_to(user).values("pk")))


class EvidenceRequest(TimeStampedModel):
    """A request to the referrer for medical evidence; needs consent scope 2. Overdue is not a stored state:
    a request still `requested` after its due date is overdue."""

    audit_referral = "case__referral_id"

    State = EvidenceState

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence_requests")
    requested_from = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evidence_requests_received"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what_is_needed = models.TextField()
    due_date = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED)
    answer_text = models.TextField(blank=True)
    answer_file = models.FileField(storage=private_storage, upload_to="evidence/%Y/%m/", blank=True, max_length=200)
    answer_file_type = models.CharField(max_length=50, blank=True)
    decline_reason = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = EvidenceRequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [
            models.Index(fields=["requested_from", "state"], name="evidence_to_state_idx"),
            # The answers of the last two weeks, newest first (the advisor's day: casework.selectors).
            models.Index(
                F("answered_at").desc(),
                F("id").desc(),
                condition=Q(state__in=[EvidenceState.ANSWERED, EvidenceState.DECLINED]),
                name="evidence_answered_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state=EvidenceState.REQUESTED, answered_at__isnull=True)
                | Q(state=EvidenceState.CANCELLED)
                | Q(
                    state__in=[EvidenceState.ANSWERED, EvidenceState.DECLINED],
                    answered_at__isnull=False,
                    answered_by__isnull=False,
                ),
                name="evidence_answer_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(state=EvidenceState.ANSWERED) | ~Q(answer_text="") | ~Q(answer_file=""),
                name="evidence_answer_has_content",
            ),
            models.CheckConstraint(
                condition=~Q(state=EvidenceState.DECLINED) | ~Q(decline_reason=""), name="evidence_decline_has_reason"
            ),
        ]

    def __str__(self):
        return f"Evidence request {self.pk} on {self.case}"

    def is_overdue(self, today=None) -> bool:
        return self.state == self.State.REQUESTED and self.due_date < (today or timezone.localdate())

    @property
    def display_state(self) -> str:
        return "Overdue" if self.is_overdue() else self.get_state_display()


class OnwardReferral(models.Model):
    """A referral passed on to another advice provider: at triage (the referral is redirected, no case) or
    during a case for specialist help (the case goes on)."""

    audit_referral = "referral_id"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="onward_referrals")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="onward_referrals")
    provider = models.ForeignKey(AdviceProvider, on_delete=models.PROTECT, related_name="onward_referrals")
    issue = models.ForeignKey(CaseIssue, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.TextField()
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(default=timezone.now)
    # Made with the patient's consent to share with the provider: the referral handed over (to its triage when
    # the provider uses hjp, by a single-use link when not), whose answer and outcome come back.
    handover = models.OneToOneField(
        "referrals.Handover", on_delete=models.PROTECT, null=True, blank=True, related_name="onward_referral"
    )

    class Meta:
        ordering = ["-made_at", "-pk"]

    def __str__(self):
        return f"{self.referral} to {self.provider}"


class PartnerSendStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    RETRYING = "retrying", "Failed, retrying"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed, not retried"
    STOPPED = "stopped", "Stopped: consent withdrawn"


class PartnerSend(models.Model):
    """A handover sent to a provider outside hjp by FHIR (api.fhir.partners): one row per handover, its unique
    `key` the Bundle's identifier (the same on every attempt, so the provider can de-duplicate), locked while it
    is sent. The provider's answer, the location of the Task it made, is kept."""

    Status = PartnerSendStatus
    audit_referral = "handover__referral_id"

    key = models.CharField(max_length=60, unique=True)
    handover = models.OneToOneField("referrals.Handover", on_delete=models.CASCADE, related_name="partner_send")
    provider = models.ForeignKey(AdviceProvider, on_delete=models.PROTECT, related_name="sends")
    url = models.URLField(max_length=300)
    status = models.CharField(max_length=10, choices=PartnerSendStatus.choices, default=PartnerSendStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    partner_task = models.CharField("the provider's Task", max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=PartnerSendStatus.SENT) | Q(sent_at__isnull=False), name="partner_send_sent_at"
            )
        ]

    def __str__(self):
        return f"{self.handover} by FHIR: {self.get_status_display()}"

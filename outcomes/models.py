from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from casework.models import Case, CaseIssue
from hjp.accounts.roles import roles_for
from hjp.core.models import EnteredInError, TimeStampedModel, entered_in_error_constraint
from referrals.models import ProblemCategory, ProblemSubCategory


class FinancialKind(models.TextChoices):
    NEW_OR_INCREASED_AWARD = "new_or_increased_award", "New or increased benefit award"
    BACKDATED_AWARD = "backdated_award", "Backdated award or arrears"
    DEBT_WRITTEN_OFF = "debt_written_off", "Debt written off"
    GRANT = "grant", "Grant or charitable payment"
    REFUND = "refund", "Refund or compensation"
    OTHER = "other", "Other"


class Period(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    FOUR_WEEKLY = "four_weekly", "Every four weeks"
    MONTHLY = "monthly", "Monthly"


# Periods in a year: how a recurring amount is annualised.
PERIODS_PER_YEAR = {Period.WEEKLY: 52, Period.FOUR_WEEKLY: 13, Period.MONTHLY: 12}


class OutcomeQuerySet(models.QuerySet):
    """`counted()` is the one rule for which outcomes count in a figure: every selector that sums or counts
    outcomes (dashboard, funder report and CSV, digests, a case's totals, the referrer's outcome report) starts
    from it. An outcome marked entered in error is kept, struck through on the case's outcomes page, and
    counted nowhere."""

    def counted(self) -> "OutcomeQuerySet":
        return self.filter(entered_in_error_at__isnull=True)


class CorrectableOutcome(EnteredInError, TimeStampedModel):
    """An outcome that can be corrected (edited at a `version`, each change kept as an OutcomeChange) or marked
    entered in error with a reason, never deleted (outcomes.corrections)."""

    version = models.PositiveIntegerField(default=1)

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        abstract = True


def _error_constraints(name: str) -> list:
    return [
        models.CheckConstraint(condition=Q(version__gte=1), name=f"{name}_version_positive"),
        entered_in_error_constraint(name),
    ]


def annualise(amount: Decimal | None, period: str | None) -> Decimal:
    if not amount or not period:
        return Decimal("0.00")
    return (Decimal(amount) * PERIODS_PER_YEAR[Period(period)]).quantize(Decimal("0.01"))


class FinancialOutcome(CorrectableOutcome):
    """Money gained on one case issue: a recurring amount (annualised) and/or a one-off amount."""

    audit_referral = "issue__case__referral_id"

    issue = models.ForeignKey(CaseIssue, on_delete=models.CASCADE, related_name="financial_outcomes")
    kind = models.CharField(max_length=30, choices=FinancialKind.choices)
    # The benefits are the benefits category's sub-categories (an admin-kept list).
    benefit = models.ForeignKey(
        ProblemSubCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"category__code": ProblemCategory.BENEFITS},
    )
    recurring_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    recurring_period = models.CharField(max_length=12, choices=Period.choices, blank=True)
    annual_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        editable=False,
        help_text="The recurring amount annualised: weekly x 52, four-weekly x 13, monthly x 12.",
    )
    one_off_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    confirmed = models.BooleanField(default=True, help_text="Confirmed by a decision; otherwise expected.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recurring_amount__isnull=True, recurring_period="")
                | Q(recurring_amount__gt=0) & ~Q(recurring_period=""),
                name="financial_recurring_amount_has_period",
            ),
            models.CheckConstraint(condition=Q(one_off_amount__gte=0), name="financial_one_off_not_negative"),
            models.CheckConstraint(
                condition=Q(recurring_amount__isnull=False) | Q(one_off_amount__gt=0),
                name="financial_has_an_amount",
            ),
            *_error_constraints("financial"),
        ]

    def __str__(self):
        return self.get_kind_display()

    @property
    def total_gain(self) -> Decimal:
        return self.annual_amount + self.one_off_amount


class DecisionStage(models.TextChoices):
    INITIAL_CLAIM = "initial_claim", "Initial claim"
    MANDATORY_RECONSIDERATION = "mandatory_reconsideration", "Mandatory reconsideration"
    TRIBUNAL_APPEAL = "tribunal_appeal", "Tribunal appeal"


class DecisionResult(models.TextChoices):
    AWARDED = "awarded", "Awarded"
    INCREASED = "increased", "Increased"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"


SUCCESSFUL_RESULTS = (DecisionResult.AWARDED, DecisionResult.INCREASED)


class DecisionOutcome(CorrectableOutcome):
    audit_referral = "issue__case__referral_id"

    issue = models.ForeignKey(CaseIssue, on_delete=models.CASCADE, related_name="decisions")
    stage = models.CharField(max_length=30, choices=DecisionStage.choices)
    result = models.CharField(max_length=12, choices=DecisionResult.choices)
    decided_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = _error_constraints("decision")

    def __str__(self):
        benefit = self.benefit_display
        stage = f"{self.get_stage_display()} for {benefit}" if benefit else self.get_stage_display()
        return f"{stage}: {self.get_result_display()}"

    @property
    def benefit_display(self) -> str:
        """The benefit decided on: the issue's sub-category when it is a benefit, else the benefits named by
        the money recorded on the same issue. Reads the issue's category and sub-category, and its prefetched
        financial outcomes with their benefits. (An issue's sub-category is one of its own category's.)"""
        issue = self.issue
        if issue.sub_category_id and issue.category.code == ProblemCategory.BENEFITS:
            return issue.sub_category.name
        named = dict.fromkeys(
            o.benefit.name for o in issue.financial_outcomes.all() if o.benefit_id and not o.is_entered_in_error
        )
        return " and ".join(named)


class NonFinancialKind(models.TextChoices):
    EVICTION_PREVENTED = "eviction_prevented", "Eviction or homelessness prevented"
    HOUSING_IMPROVED = "housing_improved", "Housing improved"
    DEBT_ARRANGEMENT = "debt_arrangement", "Debt arrangement agreed"
    DISCONNECTION_PREVENTED = "disconnection_prevented", "Utility disconnection prevented"
    EMPLOYMENT_KEPT = "employment_kept", "Employment kept"
    IMMIGRATION_RESOLVED = "immigration_resolved", "Immigration status resolved"
    ACCESS_TO_CARE = "access_to_care", "Access to care or services"
    OTHER = "other", "Other"


class NonFinancialOutcome(CorrectableOutcome):
    audit_referral = "issue__case__referral_id"

    issue = models.ForeignKey(CaseIssue, on_delete=models.CASCADE, related_name="non_financial_outcomes")
    kind = models.CharField(max_length=30, choices=NonFinancialKind.choices)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = _error_constraints("non_financial")

    def __str__(self):
        return self.get_kind_display()


class OutcomeKind(models.TextChoices):
    """The three kinds of correctable outcome, as the correction pages and the history name them."""

    FINANCIAL = "financial", "Money gained"
    DECISION = "decision", "Decision"
    NON_FINANCIAL = "non-financial", "Other outcome"


OUTCOME_MODELS = {
    OutcomeKind.FINANCIAL: FinancialOutcome,
    OutcomeKind.DECISION: DecisionOutcome,
    OutcomeKind.NON_FINANCIAL: NonFinancialOutcome,
}


class OutcomeChange(models.Model):
    """One correction of a recorded outcome: who, when, what (each field's old and new value, as shown to
    people), and why. Kept for the case's lifetime; the outcomes page reads them as 'changed by X on D:
    amount £A → £B'."""

    audit_referral = "case__referral_id"

    class Action(models.TextChoices):
        EDITED = "edited", "changed"
        CONFIRMED = "confirmed", "confirmed"
        ENTERED_IN_ERROR = "entered_in_error", "marked entered in error"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="outcome_changes")
    outcome_kind = models.CharField(max_length=20, choices=OutcomeKind.choices)
    outcome_id = models.PositiveBigIntegerField()
    action = models.CharField(max_length=20, choices=Action.choices)
    # [{"field": "Regular amount", "old": "£100.00", "new": "£120.00"}, ...]
    changes = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["outcome_kind", "outcome_id"], name="outcome_change_outcome_idx")]

    def __str__(self):
        return f"{self.get_outcome_kind_display()} {self.outcome_id} {self.get_action_display()}"


SWEMWBS_ITEMS = [
    "I've been feeling optimistic about the future",
    "I've been feeling useful",
    "I've been feeling relaxed",
    "I've been dealing with problems well",
    "I've been thinking clearly",
    "I've been feeling close to other people",
    "I've been able to make up my own mind about things",
]
SWEMWBS_SCALE = [(1, "None of the time"), (2, "Rarely"), (3, "Some of the time"), (4, "Often"), (5, "All of the time")]


def _item():
    return models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])


class WellbeingScore(TimeStampedModel):
    """The Short Warwick-Edinburgh Mental Wellbeing Scale: 7 items scored 1-5 (raw total 7-35),
    at the start and at the close of a case, when the patient agrees.

    One score per moment, whoever recorded it: an advisor (`recorded_by`) or the patient themselves through
    their own link (`self_reported`, no `recorded_by`). The patient's own answer wins: it replaces an
    advisor's score of the same moment, and an advisor cannot overwrite it (outcomes.services)."""

    audit_referral = "case__referral_id"

    class Moment(models.TextChoices):
        START = "start", "At the start"
        CLOSE = "close", "At the close"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="wellbeing_scores")
    moment = models.CharField(max_length=5, choices=Moment.choices)
    item_1 = _item()
    item_2 = _item()
    item_3 = _item()
    item_4 = _item()
    item_5 = _item()
    item_6 = _item()
    item_7 = _item()
    total = models.PositiveSmallIntegerField(editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    self_reported = models.BooleanField(default=False, help_text="Completed by the patient through their own link.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "moment"], name="wellbeing_one_per_moment"),
            models.CheckConstraint(
                condition=Q(self_reported=True, recorded_by__isnull=True)
                | Q(self_reported=False, recorded_by__isnull=False),
                name="wellbeing_recorded_by_advisor_or_patient",
            ),
            models.CheckConstraint(condition=Q(total__gte=7, total__lte=35), name="wellbeing_total_7_to_35"),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"item_{i}__gte": 1, f"item_{i}__lte": 5}), name=f"wellbeing_item_{i}_1_to_5"
                )
                for i in range(1, 8)
            ],
        ]

    def __str__(self):
        return f"{self.get_moment_display()}: {self.total}"

    @property
    def items(self) -> list[int]:
        return [getattr(self, f"item_{i}") for i in range(1, 8)]


class NoOutcomeReason(models.TextChoices):
    NO_CONTACT = "no_contact", "Could not contact the patient"
    ADVICE_ONLY = "advice_only", "Advice given; nothing to measure"
    PATIENT_WITHDREW = "patient_withdrew", "Patient stopped the work"
    REFERRED_ON = "referred_on", "Referred on before any outcome"
    PENDING_DECISION = "pending_decision", "Decision still awaited when closed"
    OTHER = "other", "Other"


class CaseClosure(TimeStampedModel):
    """What closed a case on the outcomes side: 'no outcome' and why, when nothing was recorded."""

    audit_referral = "case__referral_id"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="outcome_closure")
    no_outcome_reason = models.CharField(max_length=20, choices=NoOutcomeReason.choices, blank=True)
    no_outcome_note = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return f"Closure of {self.case}"


class FigureCell(models.Model):
    """One running total of the figures (outcomes.running_figures): for a partnership and a calendar month, what
    `measure` counts (`n`) or sums (`amount`, to the penny) for one `key` (an organisation's id, a profession, a
    decision stage, a wait in whole hours...). Kept up to date from each referral's contribution; rebuilt from the
    raw tables by `manage.py rebuild_figures`."""

    partnership_id = models.BigIntegerField()
    month = models.DateField(help_text="The first day of the month, in the installation's time zone.")
    measure = models.CharField(max_length=20)
    key = models.CharField(max_length=40, blank=True)
    n = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partnership_id", "month", "measure", "key"], name="figure_cell_unique")
        ]
        # A referring organisation's digest reads its cells across partnerships.
        indexes = [models.Index(fields=["measure", "key", "month"], name="figure_cell_by_key")]

    def __str__(self):
        return f"{self.partnership_id} {self.month:%Y-%m} {self.measure} {self.key}: {self.n} {self.amount}"


class CaseloadCell(models.Model):
    """Cases opened (+1) and closed (-1) per partnership, advisor and month: the cases an advisor has open at the
    end of a month are the sum of their cells up to that month."""

    partnership_id = models.BigIntegerField()
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    month = models.DateField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partnership_id", "advisor", "month"], name="caseload_cell_unique")
        ]

    def __str__(self):
        return f"{self.partnership_id} {self.advisor_id} {self.month:%Y-%m}: {self.n}"


class ReferralContribution(models.Model):
    """What one referral currently adds to the running totals: the facts they are worked out from
    (outcomes.running_figures.facts_of), kept so that a change adds only the difference."""

    referral_id = models.BigIntegerField(primary_key=True)
    facts = models.JSONField(default=dict)

    def __str__(self):
        return f"Contribution of referral {self.referral_id}"


class FiguresPending(models.Model):
    """A referral whose contribution may be out of date: one row per change, inserted in the same transaction as
    the change, drained by the `refresh_figures` task and, before it reads, by the dashboard itself. Append-only
    (no unique key on the referral): an insert never waits for another transaction's row, and a change committed
    after a refresh read the rows leaves a row of its own, which that refresh does not delete."""

    id = models.BigAutoField(primary_key=True)
    referral_id = models.BigIntegerField()
    partnership_id = models.BigIntegerField(db_index=True)

    def __str__(self):
        return f"Referral {self.referral_id} to count again"


# --- the patient's own voice -----------------------------------------------------------------------------


class PatientVoiceAgreement(TimeStampedModel):
    """Whether the patient agreed to be sent their own link (SWEMWBS and the experience survey), as the advice
    service recorded it on the case. Without `agreed`, no link can be sent."""

    audit_referral = "case__referral_id"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="patient_voice_agreement")
    agreed = models.BooleanField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return f"case {self.case_id}: {'agreed' if self.agreed else 'not agreed'}"


class PatientLink(TimeStampedModel):
    """A personal, single-use, expiring link sent to the patient. Only the hash of its token is kept: the token
    is derived from SECRET_KEY and `nonce` when the link is sent (outcomes.patient_voice), so it never sits in
    the database or the task queue. The row is also the send's outbox entry (`send_status`)."""

    audit_referral = "case__referral_id"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    class SendStatus(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Could not be sent"
        CANCELLED = "cancelled", "Cancelled"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="patient_links")
    moment = models.CharField(max_length=5, choices=WellbeingScore.Moment.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    language = models.CharField(max_length=10, default="en-gb")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    send_status = models.CharField(max_length=10, choices=SendStatus.choices, default=SendStatus.PENDING)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_channel_display()} link for case {self.case_id} ({self.moment})"


class ExperienceAnswer(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"


class ExperienceSurvey(TimeStampedModel):
    """The patient's own answers at the close: was it easy to get help, did it make a difference, and what
    they want to say (free text, erased with the patient's other details)."""

    audit_referral = "case__referral_id"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="experience_survey")
    easy_to_get_help = models.CharField(max_length=6, choices=ExperienceAnswer.choices)
    made_a_difference = models.CharField(max_length=6, choices=ExperienceAnswer.choices)
    comments = models.TextField(blank=True, max_length=2000)

    def __str__(self):
        return f"experience survey of case {self.case_id}"


class CaseStudyState(models.TextChoices):
    """A case study's lifecycle; the moves allowed are one table, outcomes.case_studies.CASE_STUDY_TRANSITIONS."""

    SUBMITTED = "submitted", "Waiting for review"
    RETURNED = "returned", "Returned for changes"
    APPROVED = "approved", "Approved"
    INCLUDED = "included", "In the funder report"
    WITHDRAWN = "withdrawn", "Withdrawn"


class CaseStudyAgreement(models.TextChoices):
    VERBAL = "verbal", "Verbally"
    WRITTEN = "written", "In writing"


REVIEWED_STATES = (CaseStudyState.APPROVED, CaseStudyState.INCLUDED)


class CaseStudyQuerySet(models.QuerySet):
    """Who may read a case study, written once: the advisors and supervisors of its case's advice organisation
    (those who may see the case), and, once a supervisor approved it, the managers of its partnership, who choose
    what goes in the funder report. Funders read only the stories included there (selectors.case_studies)."""

    def visible_to(self, user) -> "CaseStudyQuerySet":
        managed = roles_for(user).manager_partnership_ids
        return self.filter(
            Q(case__in=Case.objects.visible_to(user).values("pk"))
            | Q(state__in=REVIEWED_STATES, case__referral__partnership_id__in=managed)
        )


class CaseStudy(TimeStampedModel):
    """An anonymised story of a case for funders, written by an advisor with the patient's recorded agreement,
    reviewed by a supervisor of the same advice service and included in the funder report by a manager. A
    withdrawal of consent (or of the agreement alone) withdraws it and erases its text."""

    audit_referral = "case__referral_id"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="case_studies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    story = models.TextField(help_text="Anonymised: no names, places or dates that could identify the patient.")
    outcome_summary = models.TextField("what changed for them")
    state = models.CharField(max_length=20, choices=CaseStudyState.choices, default=CaseStudyState.SUBMITTED)
    # The patient's agreement to their story being used, as recorded: how, by whom, when.
    agreement_method = models.CharField(max_length=10, choices=CaseStudyAgreement.choices)
    agreement_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agreement_recorded_at = models.DateTimeField()
    review_comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    included_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    included_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = CaseStudyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "case studies"
        constraints = [
            models.CheckConstraint(
                condition=~Q(state__in=REVIEWED_STATES) | Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="case_study_approved_was_reviewed",
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseStudyState.INCLUDED) | Q(included_by__isnull=False, included_at__isnull=False),
                name="case_study_included_by_someone",
            ),
            models.CheckConstraint(
                condition=Q(state=CaseStudyState.WITHDRAWN, withdrawn_at__isnull=False)
                | ~Q(state=CaseStudyState.WITHDRAWN) & Q(withdrawn_at__isnull=True),
                name="case_study_withdrawn_has_time",
            ),
        ]
        indexes = [models.Index(fields=["state", "case"], name="case_study_state_idx")]

    @property
    def is_included(self) -> bool:
        return self.state == CaseStudyState.INCLUDED

    def __str__(self):
        return self.title


# The referrers' survey's model lives beside its services (outcomes/staff_survey/); Django finds it through here.
from outcomes.staff_survey.models import StaffSurveyResponse  # noqa: E402, F401

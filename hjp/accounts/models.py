from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from hjp.core.dates import format_date
from hjp.core.models import TimeStampedModel
from hjp.core.money import format_money


def normalise_email(address: str) -> str:
    """An email address as hjp stores and compares it: trimmed and lower-cased, whole."""
    return (address or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalise_email(self.normalize_email(email)), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        """The account of an address as typed, matched exactly once trimmed and lower-cased (addresses are stored
        so). Not `__iexact`: PostgreSQL's upper() folds look-alikes (ſ to S, ı to I) that Python's lower() keeps,
        so each spelling would find the account under a lock-out count of its own."""
        return self.get(**{self.model.USERNAME_FIELD: normalise_email(username)})


# Words that may precede a name and are no name to greet someone by.
TITLES = frozenset(
    {
        "dr",
        "doctor",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "prof",
        "professor",
        "sir",
        "dame",
        "rev",
        "revd",
        "sister",
        "nurse",
    }
)


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who signs in with their email address. Admins are `is_staff` users."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the admin pages.")
    is_active = models.BooleanField(default=True)
    is_system_account = models.BooleanField(
        default=False,
        editable=False,
        help_text="A system's account (an API client's service user): it never signs in, reads no inbox and is "
        "sent no email, and no case is assigned to it.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        # The whole-service caseload sorted by advisor walks the advisors in this order and each one's cases
        # (casework.selectors.CASE_SORTS["advisor"]), rather than sorting every case the service has.
        indexes = [models.Index(fields=["full_name", "id"], name="user_name_idx")]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = normalise_email(self.email)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        """The given name, to greet someone by: "Asha" for "Dr Asha Patel". Where there is no given name after
        the title ("Dr Patel"), the whole name; never a title on its own."""
        words = self.full_name.split()
        if not words:
            return self.email
        named = words[:]
        while named and named[0].rstrip(".").lower() in TITLES:
            named.pop(0)
        return named[0] if len(named) >= 2 else " ".join(words)


# The largest list size taken: England's largest practices have some 100,000 patients; a larger number is a typo.
LIST_SIZE_MAX = 500_000


class Organisation(TimeStampedModel):
    class Kind(models.TextChoices):
        HEALTH = "health", "Health service"
        ADVICE = "advice", "Advice service"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ods_code = models.CharField(
        "ODS code", max_length=12, blank=True, help_text="NHS Organisation Data Service code, if any."
    )
    shares_referrals_internally = models.BooleanField(
        "shared visibility",
        default=False,
        help_text="Referrers of this organisation see each other's referrals (health organisations only).",
    )
    list_size = models.PositiveIntegerField(
        "registered patients",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(LIST_SIZE_MAX)],
        help_text="A GP practice's list size (patients registered), for referrals per 1,000 registered patients on "
        "the engagement view (health organisations only; leave blank where it does not apply).",
    )
    requires_two_factor_for_referrers = models.BooleanField(
        "two-step sign-in for referrers",
        default=True,
        help_text="Referrers of this organisation must sign in with a second factor (an authenticator app) as "
        "well as their password (health organisations only; advice, managers, funders and admins always do).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(list_size__isnull=True) | Q(list_size__gte=1, list_size__lte=LIST_SIZE_MAX),
                name="organisation_list_size_in_range",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if self.list_size is not None and self.kind != self.Kind.HEALTH:
            raise ValidationError({"list_size": "Only a health organisation has registered patients."})


class Team(TimeStampedModel):
    """A team or ward inside a health organisation."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="teams",
        limit_choices_to={"kind": Organisation.Kind.HEALTH},
    )
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_unique_name_per_organisation")
        ]

    def __str__(self):
        return f"{self.name} ({self.organisation.name})"


class Partnership(TimeStampedModel):
    """One advice organisation with the health organisations that refer to it."""

    name = models.CharField(max_length=200, unique=True)
    advice_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="advice_partnerships",
        limit_choices_to={"kind": Organisation.Kind.ADVICE},
    )
    health_organisations = models.ManyToManyField(
        Organisation, related_name="health_partnerships", limit_choices_to={"kind": Organisation.Kind.HEALTH}
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    retention_years = models.PositiveSmallIntegerField(
        "retention period (years)",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="How long after a case closes (or a referral ends without a case) the patient's details are "
        "kept. Then they are anonymised: identifying details, free text and documents go; dates, categories, "
        "outcomes, money and the deprivation decile stay for reports.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(retention_years__gte=1), name="partnership_retention_at_least_a_year"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="partnership_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.name

    def is_active_on(self, day) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class Funding(TimeStampedModel):
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="fundings")
    funder = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    period_start = models.DateField()
    period_end = models.DateField()

    class Meta:
        ordering = ["partnership", "period_start"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="funding_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="funding_period_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.funder}: {format_money(self.amount)} ({format_date(self.period_start)} to {format_date(self.period_end)})"


class InKindSupport(TimeStampedModel):
    """Support given in kind rather than money (a rent-free room, admin time, equipment, training), with the
    value its provider or the partnership estimates for it over its period. Value for money counts it beside
    cash funding (outcomes.selectors.dashboard.support_in_period)."""

    class Kind(models.TextChoices):
        ROOM = "room", "Rent-free room"
        ADMIN_TIME = "admin_time", "Admin time"
        EQUIPMENT = "equipment", "Equipment"
        TRAINING = "training", "Training"
        OTHER = "other", "Other"

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="in_kind_support")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=300, help_text="What is given, e.g. 'consulting room, Tuesdays'.")
    provider = models.CharField("provided by", max_length=200, help_text="Who gives it, e.g. the GP practice.")
    estimated_value = models.DecimalField(
        "estimated value (£)", max_digits=12, decimal_places=2, help_text="For the whole period."
    )
    period_start = models.DateField()
    period_end = models.DateField()

    class Meta:
        ordering = ["partnership", "period_start"]
        verbose_name = "in-kind support"
        verbose_name_plural = "in-kind support"
        constraints = [
            models.CheckConstraint(condition=Q(estimated_value__gte=0), name="in_kind_value_not_negative"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="in_kind_period_ends_after_start"
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} from {self.provider}: {format_money(self.estimated_value)} "
            f"({format_date(self.period_start)} to {format_date(self.period_end)})"
        )


class Role(models.TextChoices):
    REFERRER = "referrer", "Referrer"
    ADVISOR = "advisor", "Advisor"
    SUPERVISOR = "supervisor", "Supervisor"
    MANAGER = "manager", "Manager"
    FUNDER = "funder", "Funder"


class Profession(models.TextChoices):
    GP = "gp", "GP"
    NURSE = "nurse", "Nurse"
    ALLIED_HEALTH = "allied_health", "Allied health professional"
    MENTAL_HEALTH = "mental_health", "Mental health professional"
    SOCIAL_WORKER = "social_worker", "Social worker"
    ADMIN_STAFF = "admin_staff", "Admin staff"
    OTHER = "other", "Other"


ORGANISATION_ROLES = (Role.REFERRER, Role.ADVISOR, Role.SUPERVISOR)
PARTNERSHIP_ROLES = (Role.MANAGER, Role.FUNDER)


class Membership(TimeStampedModel):
    """A user's role: in a health or advice organisation, or over a partnership (managers, funders)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="memberships")
    profession = models.CharField(max_length=20, choices=Profession.choices, blank=True)
    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    is_champion = models.BooleanField(
        "practice champion",
        default=False,
        help_text="A referrer who sees their organisation's engagement figures and the outcomes of its referrals "
        "(not other referrers' patients' details unless the organisation shares visibility), and gets its digest.",
    )

    class Meta:
        ordering = ["user", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__in=ORGANISATION_ROLES, organisation__isnull=False, partnership__isnull=True)
                    | Q(role__in=PARTNERSHIP_ROLES, partnership__isnull=False, organisation__isnull=True)
                ),
                name="membership_scope_matches_role",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.REFERRER) | ~Q(profession=""),
                name="membership_referrer_has_profession",
            ),
            models.CheckConstraint(
                condition=Q(is_champion=False) | Q(role=Role.REFERRER), name="membership_champion_is_referrer"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "organisation"],
                condition=Q(organisation__isnull=False),
                name="membership_unique_org_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "partnership"],
                condition=Q(partnership__isnull=False),
                name="membership_unique_partnership_role",
            ),
        ]

    def __str__(self):
        scope = self.organisation or self.partnership
        return f"{self.user} - {self.get_role_display()} - {scope}"

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.role == Role.REFERRER and self.organisation and self.organisation.kind != Organisation.Kind.HEALTH:
            errors["organisation"] = "A referrer belongs to a health organisation."
        if (
            self.role in (Role.ADVISOR, Role.SUPERVISOR)
            and self.organisation
            and (self.organisation.kind != Organisation.Kind.ADVICE)
        ):
            errors["organisation"] = "Advisors and supervisors belong to an advice organisation."
        if self.team_id and self.team.organisation_id != self.organisation_id:
            errors["team"] = "The team must belong to the membership's organisation."
        if self.role != Role.REFERRER and self.profession:
            errors["profession"] = "Only referrers record a profession."
        if self.role != Role.REFERRER and self.is_champion:
            errors["is_champion"] = "Only a referrer can be a practice champion."
        if errors:
            raise ValidationError(errors)


class PasswordResetRequest(models.Model):
    """One request for a password-reset link, as typed: the web request only writes this row (the same for known
    and unknown addresses) and a Celery task looks the address up and sends the email. Rows count towards the
    hourly limits per address typed and per client address, and are purged after a day."""

    email = models.EmailField(help_text="As typed, in lower case: it may match no account.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    handled_at = models.DateTimeField(
        null=True, blank=True, help_text="When the task looked it up (and emailed the account, if there was one)."
    )

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["email", "requested_at"], name="pwreset_email_time_idx"),
            models.Index(fields=["ip_address", "requested_at"], name="pwreset_address_time_idx"),
        ]

    def __str__(self):
        return f"Password reset asked at {self.requested_at:%Y-%m-%d %H:%M}"

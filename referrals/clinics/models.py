"""An advice clinic session and the bookings of its slots. One slot holds at most one booking that is not
cancelled, and one referral at most one: both are partial unique indexes, so no two requests, however close,
can book one slot twice (the service also queues bookings of one session on its row, to answer with a clear
message rather than an integrity error)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from hjp.accounts.models import Partnership
from hjp.accounts.roles import roles_for
from hjp.core.models import TimeStampedModel


class ClinicMode(models.TextChoices):
    PRACTICE = "practice", "At a GP practice"
    WARD = "ward", "On a hospital ward"
    COMMUNITY = "community", "At a community venue"
    PHONE = "phone", "By phone"
    VIDEO = "video", "By video"


IN_PERSON_MODES = (ClinicMode.PRACTICE, ClinicMode.WARD, ClinicMode.COMMUNITY)


class Interpreter(models.TextChoices):
    NONE = "", "No interpreter"
    LANGUAGE = "language", "A spoken language interpreter"
    BSL = "bsl", "A British Sign Language (BSL) interpreter"


class ClinicSessionQuerySet(models.QuerySet):
    """Who may see a session, written once: the advice organisation's advisors and supervisors, and the
    referrers of the partnership's health organisations (who see when and where, and which slots are free)."""

    def visible_to(self, user) -> "ClinicSessionQuerySet":
        roles = roles_for(user)
        visible = Q(pk__in=[])
        if roles.advice_org_ids:
            visible |= Q(partnership__advice_organisation_id__in=roles.advice_org_ids)
        if roles.referrer_org_ids:
            visible |= Q(
                partnership__in=Partnership.objects.filter(health_organisations__in=roles.referrer_org_ids).values("pk")
            )
        return self.filter(visible)


class ClinicSession(TimeStampedModel):
    """An advisor's session for a partnership's patients, `slot_count` slots of `slot_minutes` from `starts_at`.
    Referrers of the partnership's health organisations see it and book its free slots; cancelled, it is kept
    (with who, when and why) and its bookings are cancelled with it."""

    partnership = models.ForeignKey("accounts.Partnership", on_delete=models.PROTECT, related_name="clinic_sessions")
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clinic_sessions")
    mode = models.CharField("where", max_length=10, choices=ClinicMode.choices)
    place = models.CharField(
        max_length=200, blank=True, help_text="The practice, ward or venue and the room; for phone or video, optional."
    )
    starts_at = models.DateTimeField("starts")
    slot_minutes = models.PositiveSmallIntegerField("minutes a slot", default=30)
    slot_count = models.PositiveSmallIntegerField("number of slots", default=6)
    notes = models.CharField(
        "what referrers should know", max_length=300, blank=True, help_text="e.g. ask at reception for the adviser."
    )
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancellation_reason = models.CharField(max_length=300, blank=True)

    objects = ClinicSessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["partnership", "starts_at"], name="clinic_session_partnership_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=10, slot_minutes__lte=240), name="clinic_session_slot_10_to_240_minutes"
            ),
            models.CheckConstraint(
                condition=Q(slot_count__gte=1, slot_count__lte=40), name="clinic_session_1_to_40_slots"
            ),
            models.CheckConstraint(
                condition=~Q(mode__in=IN_PERSON_MODES) | ~Q(place=""), name="clinic_session_in_person_has_place"
            ),
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True, cancelled_by__isnull=True)
                | Q(cancelled_at__isnull=False, cancelled_by__isnull=False),
                name="clinic_session_cancelled_has_who_and_when",
            ),
        ]

    def __str__(self):
        return f"{self.get_mode_display()} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.slot_minutes * self.slot_count)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def slot_starts_at(self, slot: int) -> datetime:
        return self.starts_at + timedelta(minutes=self.slot_minutes * slot)

    @property
    def where_short(self) -> str:
        """The place, or how (by phone, by video) when there is none: for a sentence."""
        return self.place or self.get_mode_display().lower()

    @property
    def where(self) -> str:
        """Where the advisor will be, as one line: the place, or how (phone, video)."""
        label = self.get_mode_display()
        return f"{label}: {self.place}" if self.place else label


class ClinicBookingQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ClinicBookingQuerySet":
        """A booking is seen by whoever sees its referral (`Referral.objects.visible_to`)."""
        from referrals.models import Referral

        return self.filter(referral__in=Referral.objects.visible_to(user).values("pk"))

    def active(self) -> "ClinicBookingQuerySet":
        return self.filter(cancelled_at__isnull=True)


class ClinicBooking(TimeStampedModel):
    """A referral's patient booked into one slot of a session, made when the referral is sent. Moved, it keeps
    its row (the session and slot change); cancelled by either side, by the session's cancellation or by the
    patient's withdrawal of consent, it is kept and frees the slot. The interpreter request goes with the
    patient's other details when they are erased."""

    session = models.ForeignKey(ClinicSession, on_delete=models.PROTECT, related_name="bookings")
    slot = models.PositiveSmallIntegerField(help_text="0 for the session's first slot.")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="clinic_bookings")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    interpreter = models.CharField(max_length=10, choices=Interpreter.choices, blank=True)
    interpreter_language = models.CharField(max_length=60, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # None when the retention job or a withdrawal recorded without a user cancelled it.
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancellation_reason = models.CharField(max_length=300, blank=True)

    objects = ClinicBookingQuerySet.as_manager()
    audit_referral = "referral_id"  # hjp.audit: the patient record its audit entries are about

    class Meta:
        ordering = ["session_id", "slot", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "slot"], condition=Q(cancelled_at__isnull=True), name="clinic_booking_one_per_slot"
            ),
            models.UniqueConstraint(
                fields=["referral"], condition=Q(cancelled_at__isnull=True), name="clinic_booking_one_per_referral"
            ),
            models.CheckConstraint(
                condition=Q(interpreter="language", interpreter_language__gt="")
                | ~Q(interpreter="language") & Q(interpreter_language=""),
                name="clinic_booking_language_named_for_a_language_interpreter",
            ),
        ]

    def __str__(self):
        return f"Slot {self.slot + 1} of {self.session}"

    @property
    def starts_at(self) -> datetime:
        return self.session.slot_starts_at(self.slot)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def interpreter_text(self) -> str:
        """What the advisor reads: "" with no interpreter, else who to bring."""
        if self.interpreter == Interpreter.LANGUAGE:
            return f"{self.interpreter_language} interpreter"
        if self.interpreter == Interpreter.BSL:
            return "BSL interpreter"
        return ""

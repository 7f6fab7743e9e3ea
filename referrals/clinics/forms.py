"""Forms for advice clinics: publishing a session, choosing a slot (in the referral form, or to move a
booking) with the interpreter it needs. Messages say what to do."""

from django import forms
from django.utils import timezone

from hjp.accounts.models import Partnership, Role, User
from hjp.accounts.roles import roles_for
from hjp.core.forms import DateTimeInput
from referrals.clinics.models import ClinicMode, Interpreter
from referrals.clinics.selectors import free_slots


def slot_value(session_id: int, slot: int) -> str:
    return f"{session_id}:{slot}"


def slot_choices(sessions, *, keep: str = "") -> list:
    """The free slots of `sessions` (as `selectors.upcoming_sessions` gives them), grouped by session; `keep`
    (a "session:slot" value, the booking's own slot when it is moved) stays a choice though it is taken."""
    groups = []
    for session in sessions:
        # Each option says where as well as when: a closed list shows the option, not its group.
        options = [
            (
                slot_value(session.pk, s.number),
                f"{timezone.localtime(s.starts_at):%a %-d %b %H:%M}, {session.where_short}",
            )
            for s in free_slots(session)
        ]
        if keep.startswith(f"{session.pk}:") and keep not in dict(options):
            number = int(keep.split(":")[1])
            when = timezone.localtime(session.slot_starts_at(number))
            options.insert(0, (keep, f"{when:%a %-d %b %H:%M}, {session.where_short} (booked now)"))
        if options:
            label = f"{session.where} · {session.advisor.full_name} · {session.slot_minutes} minutes"
            groups.append((label, sorted(options, key=lambda o: int(o[0].split(":")[1]))))
    return groups


class SlotFieldsMixin:
    """A slot ("session:slot") and the interpreter the appointment needs; `cleaned_data` then holds
    `session_id` and `slot` (None when no slot is chosen)."""

    def _add_slot_fields(self, sessions, *, required: bool, keep: str = ""):
        choices = slot_choices(sessions, keep=keep)
        blank = [] if required else [("", "No appointment: the advice service will contact the patient")]
        self.fields["slot"] = forms.ChoiceField(
            label="Book an advice clinic slot" if not required else "Slot",
            choices=blank + choices,
            required=required,
            help_text="Booked when you submit the referral; a draft keeps no slot." if not required else "",
            error_messages={
                "required": "Choose a slot",
                "invalid_choice": "That slot is no longer free: choose another",
            },
        )
        self.fields["interpreter"] = forms.ChoiceField(
            label="Does the appointment need an interpreter?",
            choices=Interpreter.choices,
            required=False,
            widget=forms.RadioSelect,
        )
        self.fields["interpreter_language"] = forms.CharField(label="Which language?", max_length=60, required=False)

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get("slot") or ""
        cleaned["session_id"], cleaned["slot"] = (int(part) for part in value.split(":")) if value else (None, None)
        if cleaned.get("interpreter") == Interpreter.LANGUAGE:
            if not (cleaned.get("interpreter_language") or "").strip():
                self.add_error("interpreter_language", "Enter the language the interpreter should speak")
        else:
            cleaned["interpreter_language"] = ""
        return cleaned

    def booking(self) -> dict | None:
        """What `referral_save` books, or None when no slot was chosen."""
        data = self.cleaned_data
        if data.get("session_id") is None:
            return None
        return {
            "session_id": data["session_id"],
            "slot": data["slot"],
            "interpreter": data.get("interpreter") or "",
            "interpreter_language": data.get("interpreter_language") or "",
        }


class ClinicBookingForm(SlotFieldsMixin, forms.Form):
    """The referral form's part: an optional slot."""

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_slot_fields(sessions, required=False)


class BookingAddForm(SlotFieldsMixin, forms.Form):
    """A slot for a referral already sent."""

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_slot_fields(sessions, required=True)


class BookingChangeForm(SlotFieldsMixin, forms.Form):
    """Move a booking and change its interpreter: its own slot is the first choice."""

    def __init__(self, *args, sessions, booking, **kwargs):
        current = slot_value(booking.session_id, booking.slot)
        initial = {
            "slot": current,
            "interpreter": booking.interpreter,
            "interpreter_language": booking.interpreter_language,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self._add_slot_fields(sessions, required=True, keep=current)


class ClinicSessionForm(forms.Form):
    partnership = forms.ModelChoiceField(queryset=Partnership.objects.none(), label="For the patients of")
    advisor = forms.ModelChoiceField(queryset=User.objects.none(), label="Advisor")
    mode = forms.ChoiceField(label="Where", choices=ClinicMode.choices, widget=forms.RadioSelect)
    place = forms.CharField(
        max_length=200,
        required=False,
        label="Place",
        help_text="The practice, ward or venue and the room. For phone or video, how the patient is reached.",
    )
    starts_at = forms.DateTimeField(label="Starts", widget=DateTimeInput())
    slot_minutes = forms.IntegerField(label="Minutes a slot", min_value=10, max_value=240, initial=30)
    slot_count = forms.IntegerField(label="Number of slots", min_value=1, max_value=40, initial=6)
    notes = forms.CharField(
        max_length=300,
        required=False,
        label="What referrers should know",
        help_text="For example: ask at reception; the patient brings their letters.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        roles = roles_for(user)
        self.fields["partnership"].queryset = Partnership.objects.filter(
            advice_organisation_id__in=roles.advice_org_ids
        ).order_by("name")
        workers = User.objects.filter(
            memberships__organisation_id__in=roles.supervisor_org_ids,
            memberships__role__in=[Role.ADVISOR, Role.SUPERVISOR],
            is_active=True,
        )
        advisors = (workers | User.objects.filter(pk=user.pk)).distinct().order_by("full_name")
        self.fields["advisor"].queryset = advisors
        self.fields["advisor"].initial = user.pk

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        if starts_at <= timezone.now():
            raise forms.ValidationError("Enter a time in the future")
        return starts_at

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("mode")
        if (
            mode in (ClinicMode.PRACTICE, ClinicMode.WARD, ClinicMode.COMMUNITY)
            and not (cleaned.get("place") or "").strip()
        ):
            self.add_error("place", "Enter the practice, ward or venue, and the room")
        return cleaned

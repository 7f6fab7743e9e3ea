from datetime import date

from django import forms
from django.utils import timezone

from hjp.core.forms import (
    ColumnsCheckboxSelectMultiple,
    DateBoxesField,
    DateBoxesWidget,
    DateInput,
    DateTimeInput,
    InlineRadioSelect,
    RowChoiceField,
    SubmissionTokenMixin,
    VersionMixin,
    require_to_submit,
)
from hjp.core.nhs_number import format_nhs_number, normalise_nhs_number
from hjp.core.uploads import MAX_EVIDENCE_BYTES
from referrals.models import (
    Consent,
    ConsentChange,
    ConsentScope,
    ContactMethod,
    KnownDeadlineKind,
    Patient,
    Referral,
    ReferralStatus,
    Setting,
    Sex,
)
from referrals.services.thread import MAX_MESSAGE_CHARACTERS
from referrals.validators import normalise_postcode, validate_nhs_number, validate_postcode

# Fields a draft may leave empty but a submission needs (shown without "(optional)" either way).
PATIENT_REQUIRED_TO_SUBMIT = ("date_of_birth", "preferred_contact_method")
CONSENT_REQUIRED_TO_SUBMIT = ("given_by", "method", "given_at")
REFERRAL_REQUIRED_TO_SUBMIT = ("categories", "description", "setting", "urgency")
# Asked only in some cases (the page reveals them then): never marked "(optional)", required by clean().
CONSENT_REPRESENTATIVE_FIELDS = ("representative_name", "representative_authority")
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# Every message about the referral form is here, not in the templates: each says what to do.
NHS_NUMBER_FORMAT = "Enter an NHS number in the correct format, like 485 777 3456"
POSTCODE_FORMAT = "Enter a real postcode, like SW1A 1AA"


def _width(css: str, **attrs) -> dict:
    return {"class": css, **attrs}


class NhsNumberInput(forms.TextInput):
    """Shows ten digits as 3-3-4, as every page does (a draft opened again too); anything else as it was typed."""

    def format_value(self, value):
        return format_nhs_number(value) if value else super().format_value(value)


class PatientForm(forms.ModelForm):
    date_of_birth = DateBoxesField(
        label="Date of birth",
        required=False,
        past_only=True,
        earliest=EARLIEST_BIRTH_DATE,
        widget=DateBoxesWidget(autocomplete_prefix="bday"),
        help_text="So the advice service can tell the patient apart from others with the same name, and check "
        "benefits that depend on age. For example, 27 3 1958.",
        error_messages={
            "required": "Enter the patient's date of birth",
            "incomplete": "Date of birth must include a %(missing)s",
            "invalid": "Enter a real date of birth",
            "year": "The year of birth must include 4 numbers, like 1958",
            "past": "Date of birth must be in the past",
            "too_early": "Date of birth must be on or after %(earliest)s",
        },
    )
    # Wider than the stored values: people type spaces; clean_* store the normal form.
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=14,
        required=False,
        widget=NhsNumberInput(attrs=_width("input-width-10", inputmode="numeric", spellcheck="false")),
        help_text="So the advice service can match medical evidence to the right person. 10 digits, like 485 777 3456.",
        error_messages={"max_length": NHS_NUMBER_FORMAT},
    )
    postcode = forms.CharField(
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs=_width("input-width-8", autocomplete="off", spellcheck="false")),
        help_text="So the advice service can check the patient lives in the area it covers.",
        error_messages={"max_length": POSTCODE_FORMAT},
    )
    sex = forms.ChoiceField(
        choices=Sex.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text="Only to check that advice reaches everyone fairly. The patient does not have to answer.",
    )

    class Meta:
        model = Patient
        # The order of the page, which is the order of the error summary.
        fields = [
            "given_name",
            "family_name",
            "date_of_birth",
            "nhs_number",
            "address",
            "postcode",
            "phone",
            "email",
            "preferred_contact_method",
            "contact_times",
            "may_leave_message",
            "language",
            "interpreter_needed",
            "access_needs",
            "sex",
            "ethnicity",
        ]
        labels = {
            "given_name": "First name",
            "family_name": "Last name",
            "phone": "Phone number",
            "email": "Email address",
            "preferred_contact_method": "How should the advisor contact the patient?",
            "contact_times": "Best times to contact them",
            "may_leave_message": "The advisor may leave a message (voicemail, text or with someone who answers)",
            "language": "Preferred language",
            "interpreter_needed": "They need an interpreter",
        }
        widgets = {
            "given_name": forms.TextInput(attrs=_width("input-width-20", autocomplete="off", spellcheck="false")),
            "family_name": forms.TextInput(attrs=_width("input-width-20", autocomplete="off", spellcheck="false")),
            "address": forms.Textarea(attrs=_width("input-width-two-thirds", rows=3, autocomplete="off")),
            "phone": forms.TextInput(attrs=_width("input-width-20", type="tel", autocomplete="off")),
            "email": forms.EmailInput(attrs=_width("input-width-30", autocomplete="off", spellcheck="false")),
            "preferred_contact_method": InlineRadioSelect,
            "contact_times": forms.TextInput(attrs=_width("input-width-30")),
            "language": forms.TextInput(attrs=_width("input-width-20")),
            "access_needs": forms.Textarea(attrs=_width("input-width-two-thirds", rows=2)),
            "ethnicity": forms.TextInput(attrs=_width("input-width-20")),
        }
        help_texts = {
            "address": "Where the advisor can write to the patient.",
            "phone": "For the advisor to call or text. Include the area code, like 0113 496 0000 or 07700 900 123.",
            "preferred_contact_method": "The advisor will try this first.",
            "contact_times": "For example, weekday mornings or not before 10am.",
            "may_leave_message": "Leave this unticked if a message could put the patient at risk, "
            "for example from someone they live with.",
            "language": "So the advisor can book an interpreter.",
            "access_needs": "For example large print, a hearing loop or a home visit.",
            "ethnicity": "Only to check that advice reaches everyone fairly. In the patient's own words.",
        }
        error_messages = {
            "given_name": {"required": "Enter the patient's first name"},
            "family_name": {"required": "Enter the patient's last name"},
            "email": {"invalid": "Enter an email address in the correct format, like name@example.com"},
            "preferred_contact_method": {"required": "Select how the advisor should contact the patient"},
        }

    def __init__(self, *args, submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitting = submitting
        require_to_submit(self, PATIENT_REQUIRED_TO_SUBMIT, submitting=submitting)
        self.fields["preferred_contact_method"].choices = ContactMethod.choices

    def clean_nhs_number(self):
        value = self.cleaned_data.get("nhs_number", "")
        if value:
            validate_nhs_number(value)
        return normalise_nhs_number(value)

    def clean_postcode(self):
        value = self.cleaned_data.get("postcode", "")
        if value:
            validate_postcode(value)
        return normalise_postcode(value)

    def clean(self):
        cleaned = super().clean()
        ways = ("address", "phone", "email")
        if self.submitting and not any(cleaned.get(f) for f in ways) and not any(self.has_error(f) for f in ways):
            # On the first of them on the page, so the summary link leads where the answer goes.
            self.add_error(
                "address",
                "Enter the patient's address, phone number or email address: the advisor needs a way to contact them",
            )
        method = cleaned.get("preferred_contact_method")
        needs = {
            "phone": ("phone", "Enter the patient's phone number: they prefer to be phoned"),
            "text": ("phone", "Enter the patient's mobile number: they prefer text messages"),
            "email": ("email", "Enter the patient's email address: they prefer email"),
            "letter": ("address", "Enter the patient's address: they prefer letters"),
        }
        if method in needs:
            name, message = needs[method]
            if not cleaned.get(name) and not self.has_error(name):
                self.add_error(name, message)
        return cleaned


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        fields = [
            "given_by",
            "representative_name",
            "representative_authority",
            "method",
            "given_at",
            "share_with_advice_service",
            "medical_evidence",
            "outcome_feedback",
        ]
        widgets = {
            "given_by": forms.RadioSelect,
            "representative_name": forms.TextInput(attrs=_width("input-width-30", autocomplete="off")),
            "representative_authority": forms.TextInput(attrs=_width("input-width-30")),
            "method": InlineRadioSelect,
            "given_at": DateTimeInput(attrs=_width("input-width-datetime")),
        }
        labels = {
            "given_by": "Who gave consent?",
            "representative_name": "Representative's full name",
            "representative_authority": "Their authority to consent",
            "method": "How was consent given?",
            "given_at": "When was consent given?",
        }
        help_texts = {
            "representative_authority": "For example, lasting power of attorney for health and welfare, "
            "or appointee for the patient's benefits.",
            "given_at": "The date and time, for the record of consent.",
            "share_with_advice_service": "Needed to send the referral.",
            "medical_evidence": "So the advisor can ask you for letters or reports that support a claim or appeal.",
            "outcome_feedback": "So you hear what the advice achieved, for example an award of benefit.",
        }
        error_messages = {
            "given_by": {"required": "Select who gave consent"},
            "representative_name": {"max_length": "The representative's name must be 150 characters or fewer"},
            "representative_authority": {"max_length": "Their authority must be 200 characters or fewer"},
            "method": {"required": "Select how consent was given"},
            "given_at": {
                "required": "Enter when consent was given",
                "invalid": "Enter a real date and time for when consent was given",
            },
        }

    def __init__(self, *args, submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitting = submitting
        require_to_submit(self, CONSENT_REQUIRED_TO_SUBMIT, submitting=submitting)
        for name in CONSENT_REPRESENTATIVE_FIELDS:
            self.fields[name].shown_as_required = True
        self.fields["given_by"].choices = Consent.GivenBy.choices
        self.fields["method"].choices = Consent.Method.choices
        self.fields["given_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

    def clean_given_at(self):
        value = self.cleaned_data.get("given_at")
        if value and value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("The time consent was given must be in the past")
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("given_by") == Consent.GivenBy.REPRESENTATIVE:
            missing = {
                "representative_name": "Enter the full name of the representative who gave consent",
                "representative_authority": "Enter the representative's authority to consent, for example "
                "lasting power of attorney",
            }
            for name, message in missing.items():
                if not cleaned.get(name, "").strip() and not self.has_error(name):
                    self.add_error(name, message)
        elif cleaned.get("given_by") == Consent.GivenBy.PATIENT:
            # The patient consented themselves: nothing typed about a representative is kept.
            for name in CONSENT_REPRESENTATIVE_FIELDS:
                cleaned[name] = ""
        if self.submitting and not cleaned.get("share_with_advice_service"):
            self.add_error(
                "share_with_advice_service",
                "Select ‘Share this referral’ if the patient agreed: a referral cannot be sent without it",
            )
        return cleaned


class ReferralForm(SubmissionTokenMixin, VersionMixin, forms.ModelForm):
    class Meta:
        model = Referral
        fields = [
            "partnership",
            "categories",
            "description",
            "urgency",
            "setting",
            "expected_discharge_date",
            "known_deadline",
            "known_deadline_note",
            "known_deadline_kind",
            "duplicate_reason",
        ]
        widgets = {
            "partnership": forms.Select(attrs=_width("input-width-two-thirds")),
            "categories": ColumnsCheckboxSelectMultiple,
            "description": forms.Textarea(attrs=_width("input-width-two-thirds", rows=4, maxlength=4000)),
            "urgency": InlineRadioSelect,
            "known_deadline": DateInput(attrs=_width("input-width-date")),
            "known_deadline_kind": forms.RadioSelect,
            "known_deadline_note": forms.TextInput(attrs=_width("input-width-30")),
            "setting": forms.Select(attrs=_width("input-width-20")),
            "expected_discharge_date": DateInput(attrs=_width("input-width-date")),
            "duplicate_reason": forms.Textarea(attrs=_width("input-width-two-thirds", rows=2)),
        }
        labels = {
            "partnership": "Advice service",
            "categories": "What does the patient need help with?",
            "description": "Tell the advisor what has happened",
            "urgency": "How urgent is it?",
            "known_deadline": "Key date",
            "known_deadline_kind": "What is this date?",
            "known_deadline_note": "What the date is",
            "setting": "Where are you seeing the patient?",
            "expected_discharge_date": "Expected discharge date",
            "duplicate_reason": "Why refer again",
        }
        help_texts = {
            "partnership": "The advice service that will receive this referral.",
            "categories": "Select all that apply.",
            "description": "What the problem is and what help the patient wants. The advisor reads this first.",
            "urgency": "Choose urgent if something will happen soon without help, for example an eviction or a "
            "missed appeal date.",
            "known_deadline": "A deadline, or the date on a benefit decision letter: challenges have strict time "
            "limits.",
            "known_deadline_kind": "Needed with a key date. A mandatory reconsideration is due one calendar month "
            "after the date on the decision letter; the advisor's deadline is worked out from it.",
            "known_deadline_note": "Needed with a key date. For example, ‘PIP decision letter’ or ‘possession "
            "hearing’.",
            "expected_discharge_date": "So the advisor can reach the patient before they leave hospital.",
        }
        error_messages = {
            "partnership": {"required": "Select the advice service to refer to"},
            "categories": {"required": "Select at least one thing the patient needs help with"},
            "description": {
                "required": "Tell the advisor what has happened and what help the patient wants",
                "max_length": "The description must be 4,000 characters or fewer",
            },
            "urgency": {"required": "Select how urgent the referral is"},
            "known_deadline": {"invalid": "Enter a real date for the key date"},
            "setting": {"required": "Select where you are seeing the patient"},
            "expected_discharge_date": {"invalid": "Enter a real expected discharge date"},
        }

    def __init__(self, *args, submitting: bool = False, partnerships=None, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The partnerships the view has read once: shown and checked from those rows, with no query of their own.
        model_field = self.fields["partnership"]
        self.fields["partnership"] = RowChoiceField(
            partnerships,
            label=model_field.label,
            help_text=model_field.help_text,
            widget=model_field.widget,
            error_messages=model_field.error_messages,
            required=model_field.required,
        )
        self.submitting = submitting
        require_to_submit(self, REFERRAL_REQUIRED_TO_SUBMIT, submitting=submitting)
        self.fields["expected_discharge_date"].shown_as_required = True
        rows = self.fields["partnership"].rows
        self.fields["partnership"].empty_label = None if len(rows) == 1 else "Choose an advice service"
        self.fields["categories"].queryset = categories
        self.fields["urgency"].choices = Referral._meta.get_field("urgency").choices
        self.fields["setting"].choices = [("", "Choose a setting"), *Setting.choices]
        self.fields["known_deadline_kind"].choices = KnownDeadlineKind.choices

    def clean_description(self):
        value = self.cleaned_data.get("description", "")
        if len(value) > 4000:
            raise forms.ValidationError("The description must be 4,000 characters or fewer")
        return value

    def clean(self):
        cleaned = super().clean()
        inpatient = cleaned.get("setting") == Setting.INPATIENT
        if cleaned.get("setting") and not inpatient:
            # Asked only of an inpatient: a date typed before the setting was changed is not kept.
            cleaned["expected_discharge_date"] = None
        if (
            inpatient
            and self.submitting
            and not cleaned.get("expected_discharge_date")
            and not self.has_error("expected_discharge_date")
        ):
            self.add_error("expected_discharge_date", "Enter the expected discharge date: the patient is an inpatient")
        if not cleaned.get("known_deadline"):
            cleaned["known_deadline_kind"] = ""  # asked about the date only: with no date there is nothing to say
        elif self.submitting and not cleaned.get("known_deadline_kind"):
            self.add_error("known_deadline_kind", "Select whether the key date is a decision letter or a deadline")
        if cleaned.get("known_deadline") and not cleaned.get("known_deadline_note") and self.submitting:
            self.add_error("known_deadline_note", "Enter what the key date is, for example ‘PIP decision letter’")
        return cleaned


class ConsentWithdrawalForm(forms.Form):
    """No note: whatever it said would be about the patient, and the withdrawal removes that. Who recorded it
    and when is kept."""

    confirm = forms.BooleanField(
        label="I understand this stops all work and every message about the patient, and removes the patient's "
        "details.",
        error_messages={"required": "Confirm that you understand what withdrawing consent does"},
    )


class ConsentScopeChangeForm(forms.Form):
    """Scope 2 or 3 given later or withdrawn on its own, recorded like the original consent: who said so, how and
    when. The changes offered are the ones the consent allows now (`consent`)."""

    change = forms.ChoiceField(
        label="What did the patient say?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the patient said"},
    )
    given_by = forms.ChoiceField(
        label="Who said so?",
        choices=Consent.GivenBy.choices,
        initial=Consent.GivenBy.PATIENT,
        widget=forms.RadioSelect,
        error_messages={"required": "Select who said so"},
    )
    representative_name = forms.CharField(
        label="If a representative said so, their full name",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"class": "input-width-30", "autocomplete": "off"}),
    )
    method = forms.ChoiceField(
        label="How?",
        choices=ConsentChange.Method.choices,
        widget=InlineRadioSelect,
        error_messages={"required": "Select how the patient said so"},
    )
    said_at = forms.DateTimeField(
        label="When?",
        widget=DateTimeInput(attrs={"class": "input-width-datetime"}),
        initial=lambda: timezone.localtime().replace(second=0, microsecond=0),
        error_messages={
            "required": "Enter when the patient said so",
            "invalid": "Enter a real date and time for when the patient said so",
        },
    )
    note = forms.CharField(
        label="Anything to add (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "input-width-two-thirds"}),
    )

    def __init__(self, *args, consent: Consent, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["change"].choices = [
            (
                f"{scope.value}:{'withdraw' if getattr(consent, scope.value) else 'give'}",
                f"{'Withdraws' if getattr(consent, scope.value) else 'Gives'} consent {scope.label[0]}: "
                f"{scope.label[3].lower()}{scope.label[4:]}",
            )
            for scope in ConsentScope
        ]
        self.fields["representative_name"].shown_as_required = True  # needed only after "A representative"

    def clean_said_at(self):
        value = self.cleaned_data["said_at"]
        if value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("When the patient said so cannot be in the future.")
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("given_by") == Consent.GivenBy.REPRESENTATIVE and not cleaned.get("representative_name"):
            self.add_error("representative_name", "Enter the representative's full name")
        if cleaned.get("change"):
            scope, action = cleaned["change"].split(":")
            cleaned["scope"], cleaned["given"] = scope, action == "give"
        return cleaned


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any state")] + [c for c in ReferralStatus.choices], required=False, label="State"
    )
    q = forms.CharField(required=False, label="Search", max_length=100, help_text="Name, NHS number or reference")


class ReferralMessageForm(SubmissionTokenMixin, forms.Form):
    """A message on the referral's conversation: text, a document, or both."""

    text = forms.CharField(
        required=False,
        label="Your message",
        max_length=MAX_MESSAGE_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The other side is told in their inbox; their email says only that there is a message.",
    )
    attachment = forms.FileField(
        required=False,
        label="Document (optional)",
        help_text=f"PDF, PNG or JPEG, at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("text", "").strip() and not cleaned.get("attachment"):
            raise forms.ValidationError("Write a message, attach a document, or both.")
        return cleaned

from django import forms
from django.utils import timezone

from hjp.core.forms import DateInput, DateTimeInput, SubmissionTokenMixin, VersionMixin
from referrals.models import Consent, Patient, Referral, ReferralStatus, Setting
from referrals.validators import normalise_nhs_number, normalise_postcode, validate_nhs_number, validate_postcode

# Fields a draft must have; everything else listed below is needed only to submit.
PATIENT_REQUIRED_TO_SUBMIT = ("date_of_birth", "preferred_contact_method")
CONSENT_REQUIRED_TO_SUBMIT = ("given_by", "method", "given_at")
REFERRAL_REQUIRED_TO_SUBMIT = ("categories", "description", "setting", "urgency")


class PatientForm(forms.ModelForm):
    # Wider than the stored values: people type spaces; clean_* store the normal form.
    nhs_number = forms.CharField(
        label="NHS number", max_length=14, required=False, help_text="Optional. 10 digits; spaces are fine."
    )
    postcode = forms.CharField(max_length=10, required=False)

    class Meta:
        model = Patient
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
            "deprivation_decile",
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "address": forms.Textarea(attrs={"rows": 3}),
            "access_needs": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "sex": "Optional, for monitoring equity of access.",
            "ethnicity": "Optional, for monitoring equity of access.",
        }

    def __init__(self, *args, submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitting = submitting
        for name in PATIENT_REQUIRED_TO_SUBMIT:
            self.fields[name].required = submitting
        self.fields["deprivation_decile"].widget.attrs.update({"min": 1, "max": 10})
        self.fields["phone"].widget.attrs.update({"autocomplete": "off", "inputmode": "tel"})

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

    def clean_deprivation_decile(self):
        value = self.cleaned_data.get("deprivation_decile")
        if value is not None and not 1 <= value <= 10:
            raise forms.ValidationError("The deprivation decile runs from 1 (most deprived) to 10.")
        return value

    def clean(self):
        cleaned = super().clean()
        if self.submitting and not any(cleaned.get(f) for f in ("phone", "email", "address")):
            raise forms.ValidationError("Give at least one way to contact the patient: phone, email or address.")
        method = cleaned.get("preferred_contact_method")
        needs = {"phone": "phone", "text": "phone", "email": "email", "letter": "address"}
        if method in needs and not cleaned.get(needs[method]):
            self.add_error(needs[method], f"Give the patient's {needs[method]}: it is their preferred contact method.")
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
        widgets = {"given_at": DateTimeInput(), "given_by": forms.RadioSelect, "method": forms.RadioSelect}
        labels = {"given_by": "Who gave consent", "method": "How consent was given", "given_at": "When"}

    def __init__(self, *args, submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitting = submitting
        for name in CONSENT_REQUIRED_TO_SUBMIT:
            self.fields[name].required = submitting
        self.fields["method"].choices = [c for c in self.fields["method"].choices if c[0]]
        self.fields["given_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        self.fields["share_with_advice_service"].help_text = "Required to submit the referral."

    def clean_given_at(self):
        value = self.cleaned_data.get("given_at")
        if value and value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("Consent cannot be recorded for a time in the future.")
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("given_by") == Consent.GivenBy.REPRESENTATIVE:
            for name, label in (("representative_name", "name"), ("representative_authority", "authority")):
                if not cleaned.get(name):
                    self.add_error(name, f"Give the representative's {label}.")
        if self.submitting and not cleaned.get("share_with_advice_service"):
            self.add_error(
                "share_with_advice_service",
                "The patient must consent to sharing the referral with the advice service before you submit it.",
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
            "known_deadline",
            "known_deadline_note",
            "setting",
            "expected_discharge_date",
            "duplicate_reason",
        ]
        widgets = {
            "categories": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 4}),
            "urgency": forms.RadioSelect,
            "known_deadline": DateInput(),
            "expected_discharge_date": DateInput(),
            "duplicate_reason": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "categories": "Problems",
            "partnership": "Advice service (partnership)",
            "known_deadline": "Known deadline",
            "known_deadline_note": "What the deadline is",
            "duplicate_reason": "Why refer again",
        }
        help_texts = {
            "known_deadline": "For example the date of a benefit decision letter.",
            "expected_discharge_date": "For inpatients.",
        }

    def __init__(self, *args, submitting: bool = False, partnerships=None, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitting = submitting
        for name in REFERRAL_REQUIRED_TO_SUBMIT:
            self.fields[name].required = submitting
        self.fields["partnership"].queryset = partnerships
        self.fields["partnership"].empty_label = None if partnerships.count() == 1 else "Choose a partnership"
        self.fields["categories"].queryset = categories
        self.fields["description"].widget.attrs["maxlength"] = 4000
        self.fields["setting"].choices = [("", "Choose a setting")] + list(Setting.choices)

    def clean_description(self):
        value = self.cleaned_data.get("description", "")
        if len(value) > 4000:
            raise forms.ValidationError("Keep the description under 4,000 characters.")
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("setting") == Setting.INPATIENT and self.submitting and not cleaned.get("expected_discharge_date"):
            self.add_error("expected_discharge_date", "Give the expected discharge date for an inpatient.")
        if cleaned.get("known_deadline") and not cleaned.get("known_deadline_note") and self.submitting:
            self.add_error("known_deadline_note", "Say what the deadline is, e.g. 'PIP decision letter'.")
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, label="Reason", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label


class ConsentWithdrawalForm(forms.Form):
    note = forms.CharField(
        label="How and when the patient withdrew consent",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    confirm = forms.BooleanField(
        label="I understand this stops all work, cancels the referral and removes the patient's details.",
    )


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any state")] + [c for c in ReferralStatus.choices], required=False, label="State"
    )
    q = forms.CharField(required=False, label="Search", max_length=100, help_text="Name, NHS number or reference")

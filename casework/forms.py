from django import forms
from django.utils import timezone

from casework.models import (
    AdviceProvider,
    Appointment,
    CaseNote,
    CaseState,
    Deadline,
)
from casework.services import ShareConsent
from hjp.accounts.models import Organisation
from hjp.core.forms import DateInput, DateTimeInput, ReasonForm, SubmissionTokenMixin
from hjp.core.uploads import MAX_EVIDENCE_BYTES
from referrals.models import (
    CaseStatus,
    Consent,
    ConsentChange,
    DeclineReason,
    Handover,
    ProblemCategory,
    ProblemSubCategory,
)

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _textarea(rows=3):
    return forms.Textarea(attrs={"rows": rows})


def _now_to_the_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


class VersionedForm(forms.Form):
    """Carries the case version the form was loaded with, for optimistic locking (see casework.services)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


# --- triage -------------------------------------------------------------------------------------------------


class AcceptForm(SubmissionTokenMixin, forms.Form):
    advisor = forms.ModelChoiceField(queryset=None, label="Assign the case to", required=False, empty_label=None)

    def __init__(self, *args, workers=None, can_assign=False, **kwargs):
        super().__init__(*args, **kwargs)
        if can_assign:
            self.fields["advisor"].queryset = workers
        else:
            del self.fields["advisor"]


class DeclineForm(SubmissionTokenMixin, forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason")] + DeclineReason.choices)
    explanation = forms.CharField(
        label="Explanation for the referrer",
        widget=_textarea(),
        max_length=2000,
        help_text="The referrer reads this. Suggest where else the patient could get help.",
    )


class ShareConsentFields(forms.Form):
    """The patient's consent to share the referral with the chosen provider: with it, the referral is handed
    over (to the provider's triage when it uses hjp, else by a single-use download link)."""

    share = forms.BooleanField(
        required=False,
        label="The patient agreed to share this referral with the provider",
        help_text="Hands the referral over: the provider's answer and outcome come back to you and the referrer.",
    )
    share_given_by = forms.ChoiceField(
        choices=Consent.GivenBy.choices, initial=Consent.GivenBy.PATIENT, label="Who agreed", required=False
    )
    share_method = forms.ChoiceField(
        choices=[("", "Choose how")] + ConsentChange.Method.choices, label="How", required=False
    )
    share_said_at = forms.DateTimeField(
        label="When",
        required=False,
        widget=DateTimeInput(),
        input_formats=DATETIME_FORMATS,
        initial=_now_to_the_minute,
    )

    def clean(self):
        data = super().clean()
        if data.get("share"):
            for name, message in (
                ("share_method", "Say how the patient agreed to share the referral"),
                ("share_said_at", "Say when the patient agreed to share the referral"),
            ):
                if not data.get(name):
                    self.add_error(name, message)
        return data

    def share_consent(self) -> ShareConsent | None:
        data = self.cleaned_data
        if not data.get("share"):
            return None
        return ShareConsent(given_by=data["share_given_by"], method=data["share_method"], said_at=data["share_said_at"])


class RedirectForm(SubmissionTokenMixin, ShareConsentFields, forms.Form):
    provider = forms.ModelChoiceField(queryset=None, label="Pass to", empty_label="Choose a provider")
    note = forms.CharField(
        label="Note for the referrer",
        widget=_textarea(),
        max_length=2000,
        help_text="The referrer reads this with the provider's name.",
    )

    def __init__(self, *args, providers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers


# --- caseload -----------------------------------------------------------------------------------------------


class CaseFilterForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[("mine", "My cases"), ("organisation", "All the service's cases")], required=False, label="Whose cases"
    )
    state = forms.ChoiceField(choices=[("", "Any state")] + CaseState.choices, required=False)
    category = forms.ModelChoiceField(
        queryset=ProblemCategory.objects.all(), required=False, empty_label="Any issue", label="Issue category"
    )
    advisor = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any advisor")
    due_this_week = forms.BooleanField(required=False, label="Deadlines due this week")
    evidence_outstanding = forms.BooleanField(required=False, label="Evidence outstanding")
    q = forms.CharField(required=False, max_length=100, label="Search", help_text="Name, NHS number or case reference")
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("next_deadline", "Next deadline"),
            ("-opened", "Newest"),
            ("opened", "Oldest"),
            ("name", "Patient name"),
            ("advisor", "Advisor"),
        ],
    )

    def __init__(self, *args, advisors=None, is_supervisor=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advisor"].queryset = advisors
        if not is_supervisor:
            del self.fields["scope"]
            del self.fields["advisor"]


# --- the case -----------------------------------------------------------------------------------------------


class NoteForm(SubmissionTokenMixin, forms.Form):
    kind = forms.ChoiceField(choices=CaseNote.Kind.choices, label="Type")
    occurred_at = forms.DateTimeField(
        label="When", widget=DateTimeInput(), input_formats=DATETIME_FORMATS, initial=_now_to_the_minute
    )
    text = forms.CharField(label="Note", widget=_textarea(4), max_length=10000)
    first_contact = forms.BooleanField(required=False, label="This was the first contact with the patient")

    def __init__(self, *args, awaiting_contact=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not awaiting_contact:
            del self.fields["first_contact"]

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        if value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("A note records something that has happened: the time cannot be in the future.")
        return value


class CaseEditForm(VersionedForm):
    case_status = forms.ChoiceField(
        choices=[("", "No change")] + CaseStatus.choices, required=False, label="Case status (the referrer sees it)"
    )
    summary = forms.CharField(widget=_textarea(5), required=False, max_length=10000, label="Case summary")

    def __init__(self, *args, case_statuses=None, **kwargs):
        """`case_statuses`: the statuses the case's state allows (casework.services.business_statuses_for)."""
        super().__init__(*args, **kwargs)
        if case_statuses is not None:
            self.fields["case_status"].choices = [("", "No change")] + [
                (value, label) for value, label in CaseStatus.choices if value in case_statuses
            ]


class ReallocateForm(VersionedForm):
    advisor = forms.ModelChoiceField(queryset=None, label="New advisor", empty_label="Choose an advisor")
    note = forms.CharField(required=False, widget=_textarea(2), max_length=2000, label="Why (optional)")

    def __init__(self, *args, workers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advisor"].queryset = workers


class VersionedReasonForm(VersionedForm, ReasonForm):
    """A reason (hjp.core.forms.ReasonForm) for a change to the case, with the version it was loaded with."""


class SubCategoryChoiceIterator(forms.models.ModelChoiceIterator):
    """The sub-categories grouped under their category's name, in the categories' order."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups = {}
        for sub_category in self.queryset:
            groups.setdefault(sub_category.category.name, []).append(self.choice(sub_category))
        yield from groups.items()


class SubCategoryChoiceField(forms.ModelChoiceField):
    iterator = SubCategoryChoiceIterator


class IssueForm(SubmissionTokenMixin, forms.Form):
    category = forms.ModelChoiceField(queryset=ProblemCategory.objects.all(), empty_label="Choose a category")
    sub_category = SubCategoryChoiceField(
        queryset=ProblemSubCategory.objects.select_related("category").order_by(
            "category__position", "category__name", "position", "name"
        ),
        to_field_name="code",
        required=False,
        empty_label="None",
    )
    description = forms.CharField(required=False, widget=_textarea(), max_length=4000)

    def clean(self):
        cleaned = super().clean()
        category, sub = cleaned.get("category"), cleaned.get("sub_category")
        if category and sub and sub.category_id != category.pk:
            self.add_error("sub_category", f"{sub.name} is not part of {category.name}.")
        return cleaned


class IssueEditForm(VersionedForm, IssueForm):
    pass


class ResolveIssueForm(VersionedForm):
    resolution = forms.CharField(widget=_textarea(), max_length=4000, label="How it was resolved")


class AppointmentForm(SubmissionTokenMixin, forms.Form):
    kind = forms.ChoiceField(choices=Appointment.Kind.choices, widget=forms.RadioSelect, label="Type")
    starts_at = forms.DateTimeField(label="Date and time", widget=DateTimeInput(), input_formats=DATETIME_FORMATS)
    duration_minutes = forms.IntegerField(min_value=5, max_value=480, initial=45, label="Length in minutes")
    place = forms.CharField(
        required=False, max_length=200, help_text="Address or room for in person; number or link for phone and video."
    )
    note = forms.CharField(required=False, widget=_textarea(2), max_length=2000)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Appointment.Kind.IN_PERSON and not cleaned.get("place", "").strip():
            self.add_error("place", "Say where the appointment is.")
        return cleaned


class AppointmentEditForm(VersionedForm, AppointmentForm):
    attendance = forms.ChoiceField(choices=Appointment.Attendance.choices)


class DeadlineForm(SubmissionTokenMixin, forms.Form):
    kind = forms.ChoiceField(choices=Deadline.Kind.choices, widget=forms.RadioSelect, label="Type")
    title = forms.CharField(required=False, max_length=200, help_text="Optional for reconsiderations and appeals.")
    basis_date = forms.DateField(
        required=False,
        widget=DateInput(),
        label="Date of the decision letter or reconsideration notice",
        help_text="For reconsiderations and appeals: the due date is one calendar month after it.",
    )
    due_date = forms.DateField(
        required=False, widget=DateInput(), label="Due date", help_text="For tasks and other deadlines."
    )
    issue = forms.ModelChoiceField(queryset=None, required=False, empty_label="Not tied to one issue")

    def __init__(self, *args, issues=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issue"].queryset = issues

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in Deadline.APPEAL_CLOCK_KINDS:
            if not cleaned.get("basis_date"):
                self.add_error("basis_date", "Give the date the appeal clock runs from.")
            elif cleaned["basis_date"] > timezone.localdate():
                self.add_error("basis_date", "The letter or notice date cannot be in the future.")
        elif kind and not cleaned.get("due_date"):
            self.add_error("due_date", "Give a due date.")
        if kind in (Deadline.Kind.TASK, Deadline.Kind.OTHER) and not cleaned.get("title", "").strip():
            self.add_error("title", "Say what is due.")
        return cleaned


class DeadlineDoneForm(VersionedForm):
    pass


class EvidenceRequestForm(SubmissionTokenMixin, forms.Form):
    what_is_needed = forms.CharField(
        widget=_textarea(4), max_length=4000, label="What evidence is needed", help_text="The referrer reads this."
    )
    due_date = forms.DateField(widget=DateInput(), label="Needed by")

    def clean_due_date(self):
        value = self.cleaned_data["due_date"]
        if value < timezone.localdate():
            raise forms.ValidationError("The date cannot be in the past.")
        return value


class EvidenceAnswerForm(SubmissionTokenMixin, forms.Form):
    answer_text = forms.CharField(required=False, widget=_textarea(5), max_length=10000, label="Your answer")
    answer_file = forms.FileField(
        required=False,
        label="Document",
        help_text=f"PDF, PNG or JPEG, at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("answer_text", "").strip() and not cleaned.get("answer_file"):
            raise forms.ValidationError("Write an answer, attach a document, or both.")
        return cleaned


class EvidenceDeclineForm(SubmissionTokenMixin, forms.Form):
    reason = forms.CharField(widget=_textarea(), max_length=2000, label="Why you cannot provide this")


class OnwardReferralForm(SubmissionTokenMixin, ShareConsentFields, forms.Form):
    provider = forms.ModelChoiceField(queryset=None, empty_label="Choose a provider", label="Refer to")
    issue = forms.ModelChoiceField(queryset=None, required=False, empty_label="The whole case")
    note = forms.CharField(widget=_textarea(), max_length=4000, label="What they are asked to help with")

    def __init__(self, *args, providers=None, issues=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.fields["issue"].queryset = issues


class ProviderForm(SubmissionTokenMixin, forms.ModelForm):
    class Meta:
        model = AdviceProvider
        fields = [
            "name",
            "specialisms",
            "area",
            "phone",
            "email",
            "website",
            "how_to_refer",
            "capacity",
            "takes_pro_bono",
            "partner_organisation",
            "fhir_base_url",
            "fhir_signing_secret",
            "is_active",
        ]
        widgets = {
            "how_to_refer": _textarea(),
            # Never shown back: a blank field keeps the secret already saved.
            "fhir_signing_secret": forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        }
        labels = {"specialisms": "What they help with", "partner_organisation": "Uses hjp as"}
        help_texts = {
            "fhir_base_url": "For a provider outside hjp with a FHIR R4 server (https://): referrals handed over "
            "to it are sent there, signed.",
            "fhir_signing_secret": "Shared with the provider, who checks each request's Hjp-Signature with it. "
            "Leave blank to keep the one saved.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        own = self.instance.advice_organisation_id if self.instance.pk else None
        self.fields["partner_organisation"].queryset = Organisation.objects.filter(
            kind=Organisation.Kind.ADVICE
        ).exclude(pk=own)
        self.fields["partner_organisation"].empty_label = "Not in hjp"

    def clean_fhir_signing_secret(self):
        return self.cleaned_data["fhir_signing_secret"].strip() or self.instance.fhir_signing_secret


class ProviderImportForm(forms.Form):
    """An Open Referral UK feed's address, or a file of its JSON: one of the two."""

    feed_url = forms.URLField(
        label="Feed address", required=False, help_text="e.g. https://example.gov.uk/api/services"
    )
    feed_file = forms.FileField(label="Or a JSON file", required=False)

    def clean(self):
        data = super().clean()
        if not self.errors and bool(data.get("feed_url")) == bool(data.get("feed_file")):
            raise forms.ValidationError("Give either the feed's address or a JSON file, not both.")
        return data


class HandoverDecisionForm(SubmissionTokenMixin, forms.Form):
    note = forms.CharField(
        widget=_textarea(), max_length=2000, required=False, label="Note for the service and the referrer"
    )

    def __init__(self, *args, note_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required


class HandoverCloseForm(SubmissionTokenMixin, forms.Form):
    outcome = forms.ChoiceField(
        choices=[("", "Choose an outcome")] + Handover.Outcome.choices, label="What became of it"
    )
    note = forms.CharField(widget=_textarea(), max_length=2000, required=False, label="Note")

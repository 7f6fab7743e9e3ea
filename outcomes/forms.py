from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models import ClosureReason
from hjp.core.forms import DateBoxesField, DateInput, RowChoiceField, SubmissionTokenMixin, VersionMixin
from hjp.core.nhs_number import normalise_nhs_number
from outcomes import periods
from outcomes.models import (
    SWEMWBS_ITEMS,
    SWEMWBS_SCALE,
    CaseStudy,
    CaseStudyAgreement,
    DecisionOutcome,
    ExperienceAnswer,
    FinancialOutcome,
    NonFinancialOutcome,
    NoOutcomeReason,
    OutcomeKind,
    PatientLink,
)
from outcomes.selectors.figures import Period
from referrals.validators import validate_nhs_number


class _IssueForm(SubmissionTokenMixin, forms.ModelForm):
    def __init__(self, *args, issues=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issue"] = RowChoiceField(issues, label="Issue", empty_label=None)
        self.order_fields(["issue"])


class FinancialFieldsForm(forms.ModelForm):
    """The fields of money gained, for recording it (FinancialOutcomeForm) and correcting it."""

    class Meta:
        model = FinancialOutcome
        fields = ["kind", "benefit", "recurring_amount", "recurring_period", "one_off_amount", "confirmed"]
        labels = {
            "recurring_amount": "Regular amount (£)",
            "recurring_period": "Paid",
            "one_off_amount": "One-off amount (£)",
            "confirmed": "Confirmed by a decision (untick if still expected)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["one_off_amount"].required = False
        self.fields["benefit"].empty_label = "Not a benefit"
        self.fields["benefit"].to_field_name = "code"
        self.fields["recurring_amount"].widget.attrs.update({"min": "0.01", "step": "0.01", "inputmode": "decimal"})
        self.fields["one_off_amount"].widget.attrs.update({"min": "0", "step": "0.01", "inputmode": "decimal"})

    def clean(self):
        cleaned = super().clean()
        amount, period = cleaned.get("recurring_amount"), cleaned.get("recurring_period")
        if amount is not None and amount <= 0:
            self.add_error("recurring_amount", "A regular amount must be more than £0.")
        if amount and not period:
            self.add_error("recurring_period", "Say how often the regular amount is paid.")
        if period and not amount:
            self.add_error("recurring_amount", "Give the regular amount, or leave 'Paid' empty.")
        one_off = cleaned.get("one_off_amount")
        if one_off is not None and one_off < 0:
            self.add_error("one_off_amount", "A one-off amount cannot be negative.")
        if not amount and not one_off and not self.errors:
            raise forms.ValidationError("Give a regular amount, a one-off amount, or both.")
        return cleaned

    def _post_clean(self):
        # Not a no-op: it skips the model's validation of the partial row. The messages above already say what
        # the row's constraints would, in words; without this the page would add "Constraint
        # “financial_has_an_amount” is violated." The service annualises and validates the whole row.
        pass


class DecisionFieldsForm(forms.ModelForm):
    class Meta:
        model = DecisionOutcome
        fields = ["stage", "result", "decided_on"]
        widgets = {"decided_on": DateInput()}


class NonFinancialFieldsForm(forms.ModelForm):
    class Meta:
        model = NonFinancialOutcome
        fields = ["kind", "note"]


class FinancialOutcomeForm(_IssueForm, FinancialFieldsForm):
    pass


class DecisionOutcomeForm(_IssueForm, DecisionFieldsForm):
    pass


class NonFinancialOutcomeForm(_IssueForm, NonFinancialFieldsForm):
    pass


# --- correcting a recorded outcome --------------------------------------------------------------------------


class _CorrectionMixin(VersionMixin):
    """An outcome's edit form: the version it was loaded at, and why it is changed (kept in its history)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"] = forms.CharField(
            label="Why it is changed (optional)",
            help_text="For example: the decision letter arrived.",
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 2, "class": "input-width-two-thirds"}),
        )

    def _post_clean(self):
        # The service validates the whole row under its lock, and keeps the edit off the instance until then.
        pass


class FinancialCorrectionForm(_CorrectionMixin, FinancialFieldsForm):
    pass


class DecisionCorrectionForm(_CorrectionMixin, DecisionFieldsForm):
    pass


class NonFinancialCorrectionForm(_CorrectionMixin, NonFinancialFieldsForm):
    pass


CORRECTION_FORMS = {
    OutcomeKind.FINANCIAL: FinancialCorrectionForm,
    OutcomeKind.DECISION: DecisionCorrectionForm,
    OutcomeKind.NON_FINANCIAL: NonFinancialCorrectionForm,
}


class EnteredInErrorForm(VersionMixin, forms.Form):
    """Why an outcome was entered in error; with the outcome's version it was loaded at."""

    reason = forms.CharField(
        label="Why it was entered in error",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "input-width-two-thirds"}),
        error_messages={"required": "Say why it was entered in error."},
    )

    def __init__(self, *args, instance=None, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)


class WellbeingForm(SubmissionTokenMixin, forms.Form):
    """The seven SWEMWBS statements, each answered for the last two weeks on a 1-5 scale. A saved score can be
    corrected, so the form carries the case version it was loaded with (see casework.services)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, initial_items=None, **kwargs):
        super().__init__(*args, **kwargs)
        for i, statement in enumerate(SWEMWBS_ITEMS, 1):
            self.fields[f"item_{i}"] = forms.TypedChoiceField(
                label=statement,
                choices=SWEMWBS_SCALE,
                coerce=int,
                widget=forms.RadioSelect,
                initial=(initial_items or {}).get(i),
            )

    @property
    def items(self) -> list[int]:
        return [self.cleaned_data[f"item_{i}"] for i in range(1, 8)]


class CaseCloseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    closure_reason = forms.ChoiceField(
        choices=[c for c in ClosureReason.choices if c[0] != ClosureReason.CONSENT_WITHDRAWN],
        label="Why is it closing?",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    no_outcome_reason = forms.ChoiceField(
        choices=[("", "There are outcomes recorded")] + list(NoOutcomeReason.choices),
        required=False,
        label="If there is no outcome, why",
    )
    no_outcome_note = forms.CharField(required=False, max_length=300, label="More about why there is no outcome")


# --- the period of a dashboard or report --------------------------------------------------------------------

FREE_DATES_GONE = (
    "Reports now cover a fixed period: a month, a financial quarter or a financial year (April to March). "
    "Choose one from the list; dates from and to are no longer taken."
)


class PeriodForm(forms.Form):
    """The period a dashboard or report covers: a month, a financial quarter or a financial year that has ended,
    since the partnership started (outcomes.periods). Without one it is the last quarter that ended. With
    `current` (the managers' dashboard, whose figures are exact) the periods under way are offered too, and the
    current quarter is the default. Old links with free dates (?start=...&end=...) get a message saying so, and
    the default period."""

    period = forms.ChoiceField(
        label="Period",
        required=False,
        error_messages={"invalid_choice": "Choose a month, a quarter or a financial year from the list."},
    )

    def __init__(self, data, *, partnership, current: bool = False, today: date | None = None):
        super().__init__(data)
        today = today or timezone.localdate()
        self.default = periods.quarter_of(today) if current else periods.latest_ended_quarter(today)
        since = min(partnership.start_date, self.default.period.start)
        self.available = periods.offered_periods(since=since, today=today, current=current)
        self.period_choices = periods.period_choices(since=since, today=today, current=current)
        self.fields["period"].choices = self.period_choices
        self.fields["period"].initial = self.default.key
        self.include_current = current

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("period") and not self.errors and (self.data.get("start") or self.data.get("end")):
            self.add_error("period", FREE_DATES_GONE)
        return cleaned

    @property
    def fixed_period(self) -> periods.FixedPeriod:
        """The period asked for, or the default when none (or no valid one) was chosen."""
        if self.is_valid() and self.cleaned_data["period"]:
            return periods.parse(self.cleaned_data["period"])
        return self.default

    @property
    def dates(self) -> Period:
        """The chosen period's first and last day."""
        return self.fixed_period.period


# --- subject access ---------------------------------------------------------------------------------------


class SubjectAccessSearchForm(forms.Form):
    """Find a patient by NHS number, or by name and date of birth. Sent by POST only: its terms never go in a URL."""

    nhs_number = forms.CharField(
        label="NHS number", required=False, max_length=20, help_text="For example, 485 777 3456"
    )
    given_name = forms.CharField(label="First name", required=False, max_length=100)
    family_name = forms.CharField(label="Last name", required=False, max_length=100)
    date_of_birth = DateBoxesField(label="Date of birth", required=False, past_only=True)

    def clean_nhs_number(self):
        value = self.cleaned_data["nhs_number"].strip()
        if value:
            validate_nhs_number(value)
        return normalise_nhs_number(value)

    def clean(self):
        cleaned = super().clean()
        if self.errors or cleaned.get("nhs_number"):
            return cleaned
        by_name = {"given_name": "first name", "family_name": "last name", "date_of_birth": "date of birth"}
        given = [name for name in by_name if cleaned.get(name)]
        if not given:
            raise forms.ValidationError("Enter an NHS number, or a first name, last name and date of birth")
        for name, words in by_name.items():
            if name not in given:
                self.add_error(name, f"Enter the {words}, or search by NHS number")
        return cleaned


class WhoLookedForm(forms.Form):
    """The date range of the "who has looked at this patient" page (both ends optional, both included)."""

    since = DateBoxesField(label="From", required=False)
    until = DateBoxesField(label="To", required=False)

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date must be the same as or after the start date")
        return cleaned


# --- the patient's own voice ----------------------------------------------------------------------------------

# The SWEMWBS statements and scale as the patient reads them, translated (the staff form uses SWEMWBS_ITEMS).
PATIENT_ITEMS = [
    _("I've been feeling optimistic about the future"),
    _("I've been feeling useful"),
    _("I've been feeling relaxed"),
    _("I've been dealing with problems well"),
    _("I've been thinking clearly"),
    _("I've been feeling close to other people"),
    _("I've been able to make up my own mind about things"),
]
PATIENT_SCALE = [
    (1, _("None of the time")),
    (2, _("Rarely")),
    (3, _("Some of the time")),
    (4, _("Often")),
    (5, _("All of the time")),
]
EXPERIENCE_CHOICES = [
    (ExperienceAnswer.YES, _("Yes")),
    (ExperienceAnswer.PARTLY, _("Partly")),
    (ExperienceAnswer.NO, _("No")),
]


class PatientAnswersForm(forms.Form):
    """What the patient answers through their own link: the seven SWEMWBS statements and, at the close, the
    experience survey. Rendered by its own template (plain radios in fieldsets, no JavaScript)."""

    def __init__(self, *args, asks_experience: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.asks_experience = asks_experience
        for i, statement in enumerate(PATIENT_ITEMS, 1):
            self.fields[f"item_{i}"] = forms.TypedChoiceField(
                label=statement,
                choices=PATIENT_SCALE,
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": _("Choose how often you have felt this")},
            )
        if asks_experience:
            self.fields["easy_to_get_help"] = forms.ChoiceField(
                label=_("Was it easy to get help?"),
                choices=EXPERIENCE_CHOICES,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": _("Choose yes, partly or no")},
            )
            self.fields["made_a_difference"] = forms.ChoiceField(
                label=_("Did the help make a difference to you?"),
                choices=EXPERIENCE_CHOICES,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": _("Choose yes, partly or no")},
            )
            self.fields["comments"] = forms.CharField(
                label=_("Is there anything else you want to tell us?"),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 4}),
                error_messages={"max_length": _("Write 2,000 characters or fewer")},
            )

    @property
    def items(self) -> list[int]:
        return [self.cleaned_data[f"item_{i}"] for i in range(1, 8)]

    @property
    def statements(self):
        return [self[f"item_{i}"] for i in range(1, 8)]


class PatientVoiceAgreementForm(forms.Form):
    agreed = forms.TypedChoiceField(
        label="Has the patient agreed to be sent their own link?",
        choices=[("yes", "Yes, they agreed"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the patient agreed"},
    )


class PatientLinkForm(SubmissionTokenMixin, forms.Form):
    moment = forms.ChoiceField(
        label="What the link asks",
        choices=[
            ("start", "Wellbeing at the start"),
            ("close", "Wellbeing at the close, and how the help was"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what the link asks"},
    )
    channel = forms.ChoiceField(
        label="Send it by",
        choices=PatientLink.Channel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how to send the link"},
    )


class CaseStudyFieldsForm(forms.ModelForm):
    """The story's own words, for writing it and for revising it after a supervisor returned it."""

    class Meta:
        model = CaseStudy
        fields = ["title", "story", "outcome_summary"]
        labels = {"title": "Title", "story": "The story", "outcome_summary": "What changed for them"}
        help_texts = {
            "story": "Anonymised: no names, addresses, exact dates or details that could identify the patient.",
            "outcome_summary": "For example: 'Awarded PIP at the enhanced rate after a tribunal appeal.'",
        }
        error_messages = {
            "title": {"required": "Enter a title"},
            "story": {"required": "Write the story"},
            "outcome_summary": {"required": "Say what changed for them"},
        }
        widgets = {"story": forms.Textarea(attrs={"rows": 8}), "outcome_summary": forms.Textarea(attrs={"rows": 3})}


class CaseStudyForm(SubmissionTokenMixin, CaseStudyFieldsForm):
    """A new story: only with the patient's agreement, recorded with how they gave it."""

    patient_agreed = forms.BooleanField(
        label="The patient agreed to an anonymised story of their case being shared with funders",
        error_messages={"required": "A story can only be written when the patient has agreed to it"},
    )
    agreement_method = forms.ChoiceField(
        label="How did they agree?",
        choices=CaseStudyAgreement.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say how the patient agreed"},
    )

    class Meta(CaseStudyFieldsForm.Meta):
        pass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["patient_agreed", "agreement_method", "title", "story", "outcome_summary"])


class CaseStudyReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("approve", "Approve it"), ("return", "Return it to the advisor for changes")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to approve it or return it"},
    )
    comment = forms.CharField(
        label="Comment for the advisor",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when you return it: say what to change.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "return" and not cleaned.get("comment", "").strip():
            self.add_error("comment", "Say what the advisor should change")
        return cleaned


class CaseStudyWithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label="The patient no longer agrees to their story being used",
        error_messages={"required": "Confirm that the patient withdrew their agreement"},
    )


class CaseStudyIncludeForm(forms.Form):
    """The manager's button: include the story in the funder report, or leave it out."""

    include = forms.ChoiceField(choices=[("yes", "Include"), ("no", "Leave out")])

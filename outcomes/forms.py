from datetime import date

from django import forms
from django.utils import timezone

from casework.models import ClosureReason
from hjp.core.forms import DateInput, SubmissionTokenMixin, VersionMixin
from outcomes.models import (
    SWEMWBS_ITEMS,
    SWEMWBS_SCALE,
    DecisionOutcome,
    FinancialOutcome,
    NonFinancialOutcome,
    NoOutcomeReason,
    OutcomeKind,
)
from outcomes.selectors.figures import Period


class _IssueForm(SubmissionTokenMixin, forms.ModelForm):
    def __init__(self, *args, issues=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issue"] = forms.ModelChoiceField(queryset=issues, label="Issue", empty_label=None)
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

LONGEST_PERIOD_YEARS = 10
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2999, 12, 31)


class PeriodForm(forms.Form):
    """The period a dashboard or report covers, both days included. Without an end date it ends today;
    without a start date it covers the twelve calendar months to the end date."""

    start = forms.DateField(
        label="From",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "Enter a real date, like 1/4/2026."},
    )
    end = forms.DateField(
        label="To", required=False, widget=DateInput(), error_messages={"invalid": "Enter a real date, like 31/3/2027."}
    )

    def clean(self):
        cleaned = super().clean()
        for name in ("start", "end"):
            # Beyond these the period's own arithmetic (a year back, the day after the end) leaves the calendar.
            if cleaned.get(name) and not EARLIEST_DATE <= cleaned[name] <= LATEST_DATE:
                self.add_error(name, f"Enter a date from {EARLIEST_DATE.year} to {LATEST_DATE.year}.")
        if self.errors:
            return cleaned
        end = cleaned.get("end") or timezone.localdate()
        start = cleaned.get("start") or Period.last_twelve_months(end).start
        if end < start:
            raise forms.ValidationError("The end date must be on or after the start date.")
        if end.year - start.year > LONGEST_PERIOD_YEARS:
            raise forms.ValidationError(f"Choose a period of {LONGEST_PERIOD_YEARS} years or less.")
        cleaned["period"] = Period(start=start, end=end)
        return cleaned

    @property
    def period(self) -> Period:
        """The period asked for, or the last twelve months when the dates given are not valid."""
        if self.is_valid():
            return self.cleaned_data["period"]
        return Period.last_twelve_months(timezone.localdate())

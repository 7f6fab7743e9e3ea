from django import forms

from outcomes.staff_survey.models import COMMENT_LIMIT, USEFULNESS_CHOICES, WouldReferAgain


class StaffSurveyForm(forms.Form):
    usefulness = forms.TypedChoiceField(
        label="How useful was the advice service for this patient?",
        choices=USEFULNESS_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how useful the advice service was, from 1 to 5"},
    )
    would_refer_again = forms.ChoiceField(
        label="Would you refer a patient to the advice service again?",
        choices=WouldReferAgain.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether you would refer again"},
    )
    comment = forms.CharField(
        label="Anything else the advice service should know?",
        required=False,
        max_length=COMMENT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Do not name or describe the patient: the advice service reads this beside other referrers' answers.",
    )

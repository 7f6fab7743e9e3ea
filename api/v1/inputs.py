"""What a system sends: the shape and types (for the OpenAPI schema and a clear 400 on a wrong type). The rules
of a referral (modulus-11 NHS number, postcode, consent scope 1, what a submission needs) are the web form's,
applied after this (api.v1.forms_bridge)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.models import CaseNote, ClosureReason
from outcomes.models import NoOutcomeReason
from referrals.models import Consent, ContactMethod, DeclineReason, KnownDeadlineKind, Setting, Sex, Urgency

BIGGEST_ID = 2**63 - 1


def text(help_text: str = "", **kwargs):
    return serializers.CharField(required=False, allow_blank=True, help_text=help_text, **kwargs)


def choice(choices, help_text: str = ""):
    return serializers.ChoiceField(choices=choices, required=False, allow_blank=True, help_text=help_text)


class PatientInput(serializers.Serializer):
    given_name = text("Needed.")
    family_name = text("Needed.")
    date_of_birth = serializers.DateField(required=False, allow_null=True, help_text="Needed to submit.")
    nhs_number = text("10 digits with a valid check digit (modulus 11); spaces allowed.")
    address = text()
    postcode = text("A real UK postcode.")
    phone = text()
    email = text()
    preferred_contact_method = choice(ContactMethod.choices, "Needed to submit.")
    contact_times = text()
    may_leave_message = serializers.BooleanField(required=False)
    language = text()
    interpreter_needed = serializers.BooleanField(required=False)
    access_needs = text()
    sex = choice(Sex.choices)
    ethnicity = text()
    deprivation_decile = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=-(2**31),
        max_value=2**31,
        help_text="Ignored: the decile is looked up from the postcode (blank where no lookup table is loaded).",
    )


class ConsentInput(serializers.Serializer):
    given_by = choice(Consent.GivenBy.choices, "Needed to submit.")
    representative_name = text("Needed when a representative gave consent.")
    representative_authority = text("Needed when a representative gave consent.")
    method = choice(Consent.Method.choices, "Needed to submit.")
    given_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Needed to submit.")
    share_with_advice_service = serializers.BooleanField(
        required=False, help_text="Consent scope 1: a referral cannot be sent without it."
    )
    medical_evidence = serializers.BooleanField(
        required=False, help_text="Consent scope 2: the advisor may ask the referrer for medical evidence."
    )
    outcome_feedback = serializers.BooleanField(
        required=False, help_text="Consent scope 3: outcomes may be reported back to the referrer."
    )


class ReferralInput(serializers.Serializer):
    partnership = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=BIGGEST_ID,
        help_text="The partnership (advice service) to refer to; may be left out when the organisation has one.",
    )
    categories = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=50,
        help_text="Codes of the problem categories (benefits, debt, housing ...). Needed to submit.",
    )
    description = text("What has happened and what help the patient wants. Needed to submit.")
    urgency = choice(Urgency.choices, "Needed to submit.")
    setting = choice(Setting.choices, "Needed to submit.")
    expected_discharge_date = serializers.DateField(required=False, allow_null=True, help_text="Needed for inpatients.")
    known_deadline = serializers.DateField(required=False, allow_null=True)
    known_deadline_kind = choice(KnownDeadlineKind.choices, "Needed with a known deadline.")
    known_deadline_note = text("Needed with a known deadline.")
    duplicate_reason = text("Why refer again, when the patient already has an open referral to this service.")


class ReferralCreateInput(serializers.Serializer):
    patient = PatientInput()
    consent = ConsentInput()
    referral = ReferralInput()


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": BIGGEST_ID},
            {"type": "string", "format": "email", "maxLength": 254},
        ]
    }
)
class AdvisorField(serializers.Field):
    """A case worker named by their user id (an integer) or their email address (a string)."""

    default_error_messages = {"invalid": "Give the advisor's user id (an integer) or email address (a string)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, int):
            if not 1 <= data <= BIGGEST_ID:
                self.fail("invalid")
            return data
        data = data.strip()
        if not data or len(data) > 254:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class AcceptInput(serializers.Serializer):
    advisor = AdvisorField(
        help_text="The advisor responsible for the case: a case worker (advisor or supervisor) of this advice "
        "service, by user id or email address. The client's own system account cannot hold a case.",
        error_messages={"required": "Name the advisor responsible for the case, by user id or email address."},
    )


class DeclineInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=DeclineReason.choices)
    explanation = serializers.CharField(help_text="The referrer reads this.")


class InProgressInput(serializers.Serializer):
    first_contact_at = serializers.DateTimeField(help_text="When the advisor first reached the patient.")
    kind = serializers.ChoiceField(choices=[c for c in CaseNote.Kind.choices if c[0] != CaseNote.Kind.INTERNAL])
    text = serializers.CharField(help_text="The note of the first contact.")


class CloseInput(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The case's version (`case_version`) the close was decided on: if the case changed since, "
        "nothing is closed and the answer is 409 with `current_version`. Leave it out to close the case as it is.",
    )
    closure_reason = serializers.ChoiceField(
        choices=[c for c in ClosureReason.choices if c[0] != ClosureReason.CONSENT_WITHDRAWN]
    )
    note = text()
    no_outcome_reason = choice(NoOutcomeReason.choices, "Needed when the case has no outcome recorded.")
    no_outcome_note = text()

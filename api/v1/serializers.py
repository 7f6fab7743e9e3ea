"""What the API shows of a referral: the same fields the pages show the same user. A patient whose details were
removed (consent withdrawn, or the retention period over) shows none of them."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from referrals.forms import ConsentForm, PatientForm
from referrals.models import Consent, Patient, Referral, ReferralStatusChange

# The patient's fields, in the web form's order (the same order as its error summary).
PATIENT_FIELDS = tuple(PatientForm.Meta.fields)
PATIENT_SUMMARY_FIELDS = ("given_name", "family_name", "date_of_birth", "nhs_number")


class OrganisationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    ods_code = serializers.CharField()


class PatientSummarySerializer(serializers.ModelSerializer):
    removed = serializers.SerializerMethodField(help_text="Why and when the patient's details were removed, if so.")

    class Meta:
        model = Patient
        fields = [*PATIENT_SUMMARY_FIELDS, "removed"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_removed(self, patient) -> str | None:
        return patient.removal_notice or None

    def to_representation(self, patient):
        data = super().to_representation(patient)
        if patient.redacted_at:
            return {name: None for name in data} | {"removed": data["removed"]}
        return data


class PatientSerializer(PatientSummarySerializer):
    class Meta:
        model = Patient
        fields = [*PATIENT_FIELDS, "removed"]


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        # What the web form records, and when it was withdrawn.
        fields = [*ConsentForm.Meta.fields, "withdrawn_at"]


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferralStatusChange
        fields = ["from_status", "to_status", "at", "reason", "decline_reason"]


class ReferralSummarySerializer(serializers.ModelSerializer):
    fhir_status = serializers.CharField(read_only=True, help_text="The HL7 FHIR Task.status of this state.")
    categories = serializers.SerializerMethodField(help_text="The codes of the problem categories.")
    patient = PatientSummarySerializer(read_only=True)
    advice_organisation = OrganisationSerializer(read_only=True)
    referring_organisation = OrganisationSerializer(read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "reference",
            "status",
            "fhir_status",
            "case_status",
            "urgency",
            "categories",
            "known_deadline",
            "patient",
            "referring_organisation",
            "advice_organisation",
            "submitted_at",
            "created_at",
            "updated_at",
        ]

    def get_categories(self, referral) -> list[str]:
        return [category.code for category in referral.categories.all()]


class ReferralSerializer(ReferralSummarySerializer):
    patient = PatientSerializer(read_only=True)
    consent = ConsentSerializer(read_only=True, allow_null=True)
    referrer = serializers.SerializerMethodField(help_text="The name of who made the referral.")
    known_deadline_due = serializers.DateField(read_only=True, allow_null=True)
    timeline = StatusChangeSerializer(source="status_changes", many=True, read_only=True)
    moves = serializers.SerializerMethodField(help_text="The states this client may move the referral to now.")
    case_version = serializers.SerializerMethodField(
        help_text="The version of the referral's case (null without one): send it as `version` when closing, "
        "to be refused (409) if the case changed since."
    )

    class Meta(ReferralSummarySerializer.Meta):
        fields = [
            *ReferralSummarySerializer.Meta.fields,
            "partnership",
            "referrer",
            "referrer_profession",
            "description",
            "setting",
            "expected_discharge_date",
            "known_deadline_kind",
            "known_deadline_note",
            "known_deadline_due",
            "duplicate_reason",
            "consent",
            "timeline",
            "moves",
            "case_version",
        ]

    def get_referrer(self, referral) -> str:
        return referral.referrer.full_name

    def get_case_version(self, referral) -> int | None:
        case = getattr(referral, "case", None)
        return case.version if case is not None else None

    def get_moves(self, referral) -> list[str]:
        return self.context.get("moves", [])

"""factory-boy factories for every model the tests build. Users made here have the password PASSWORD."""

from datetime import date, timedelta

import factory
from django.utils import timezone
from faker import Faker

from casework.models import (
    AdviceProvider,
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    CaseState,
    Deadline,
    EvidenceRequest,
    OnwardReferral,
)
from casework.services.common import refresh_next_deadline
from hjp.accounts.models import (
    Funding,
    InKindSupport,
    Membership,
    Organisation,
    Partnership,
    Profession,
    Role,
    Team,
    User,
)
from outcomes.models import DecisionOutcome, FinancialOutcome, NonFinancialOutcome, WellbeingScore, annualise
from referrals.clinics.models import ClinicBooking, ClinicMode, ClinicSession
from referrals.models import (
    Consent,
    Patient,
    ProblemCategory,
    ProblemSubCategory,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    Setting,
    Urgency,
)

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Health Centre {n}")
    kind = Organisation.Kind.HEALTH


class AdviceOrganisationFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"Welfare Rights Service {n}")
    kind = Organisation.Kind.ADVICE


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Ward {n}")


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Partnership {n}")
    advice_organisation = factory.SubFactory(AdviceOrganisationFactory)
    start_date = date(2025, 1, 1)

    @factory.post_generation
    def health_organisations(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.health_organisations.add(*extracted)


class FundingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Funding

    partnership = factory.SubFactory(PartnershipFactory)
    funder = "Integrated Care Board"
    amount = 50000
    period_start = date(2025, 1, 1)
    period_end = date(2025, 12, 31)


class InKindSupportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InKindSupport

    partnership = factory.SubFactory(PartnershipFactory)
    kind = InKindSupport.Kind.ROOM
    description = "Consulting room, Tuesdays"
    provider = "Riverside Surgery"
    estimated_value = 3650
    period_start = date(2026, 1, 1)
    period_end = date(2026, 12, 31)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.REFERRER
    organisation = factory.SubFactory(OrganisationFactory)
    profession = Profession.GP


def referrer(organisation=None, **kwargs) -> User:
    m = MembershipFactory(role=Role.REFERRER, organisation=organisation or OrganisationFactory(), **kwargs)
    return m.user


def advisor(organisation=None, *, supervisor=False) -> User:
    role = Role.SUPERVISOR if supervisor else Role.ADVISOR
    m = MembershipFactory(role=role, organisation=organisation or AdviceOrganisationFactory(), profession="")
    return m.user


def partnership_member(partnership, role) -> User:
    return MembershipFactory(role=role, organisation=None, partnership=partnership, profession="").user


_FAKE = Faker("en_GB")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    given_name = factory.Faker("first_name", locale="en_GB")
    # A real surname with a number: tests assert a patient's name is absent from a page, and a bare surname
    # ("Page", "Case", "Day") can be on any page by chance. No apostrophe ("O'Neill"): a page escapes it, so
    # "the name is on the page" would fail and "the name is not on the page" would pass whatever the page shows.
    family_name = factory.LazyAttributeSequence(lambda _, n: f"{_FAKE.last_name().replace(chr(39), '')}{n:03d}")
    date_of_birth = date(1960, 5, 17)
    nhs_number = ""
    address = "1 High Street"
    postcode = "LS1 1AA"
    phone = "07700 900123"
    preferred_contact_method = "phone"


class ReferralFactory(factory.django.DjangoModelFactory):
    """A submitted referral with consent to all three scopes, unless told otherwise."""

    class Meta:
        model = Referral
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"T{n:07d}")
    patient = factory.SubFactory(PatientFactory)
    referring_organisation = factory.SubFactory(OrganisationFactory)
    referrer = factory.LazyAttribute(lambda o: referrer(o.referring_organisation))
    referrer_profession = Profession.GP
    partnership = factory.LazyAttribute(lambda o: PartnershipFactory(health_organisations=[o.referring_organisation]))
    advice_organisation = factory.LazyAttribute(lambda o: o.partnership.advice_organisation)
    status = ReferralStatus.SUBMITTED
    description = "PIP refused; needs help to ask for a mandatory reconsideration."
    urgency = Urgency.ROUTINE
    setting = Setting.PRIMARY_CARE
    submitted_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))

    @factory.post_generation
    def consent(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        defaults = {
            "given_by": Consent.GivenBy.PATIENT,
            "method": Consent.Method.VERBAL,
            "given_at": timezone.now() - timedelta(days=3),
            "recorded_by": obj.referrer,
            "share_with_advice_service": True,
            "medical_evidence": True,
            "outcome_feedback": True,
        }
        defaults.update(kwargs)
        Consent.objects.create(referral=obj, **defaults)

    @factory.post_generation
    def categories(obj, create, extracted, **kwargs):
        if create:
            obj.categories.set(extracted or ProblemCategory.objects.filter(code="benefits"))


# --- casework -----------------------------------------------------------------------------------------------


class AdviceProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdviceProvider

    advice_organisation = factory.SubFactory(AdviceOrganisationFactory)
    name = factory.Sequence(lambda n: f"Law Centre {n}")
    specialisms = "housing, immigration"


class CaseFactory(factory.django.DjangoModelFactory):
    """An in-progress case on an in-progress referral, worked by an advisor of the referral's service."""

    class Meta:
        model = Case

    referral = factory.SubFactory(ReferralFactory, status=ReferralStatus.IN_PROGRESS)
    reference = factory.Sequence(lambda n: f"C{n:07d}")
    advisor = factory.LazyAttribute(lambda o: advisor(o.referral.advice_organisation))
    state = CaseState.IN_PROGRESS
    first_contact_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class CaseIssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseIssue

    case = factory.SubFactory(CaseFactory)
    category = factory.LazyFunction(lambda: ProblemCategory.objects.get(code="benefits"))
    sub_category = factory.LazyFunction(lambda: ProblemSubCategory.objects.get(code="pip"))


class CaseNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseNote

    case = factory.SubFactory(CaseFactory)
    kind = CaseNote.Kind.CALL
    text = "Spoke to the patient about the PIP decision."
    author = factory.LazyAttribute(lambda o: o.case.advisor)


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    case = factory.SubFactory(CaseFactory)
    kind = Appointment.Kind.PHONE
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    advisor = factory.LazyAttribute(lambda o: o.case.advisor)


class DeadlineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deadline
        skip_postgeneration_save = True

    case = factory.SubFactory(CaseFactory)
    kind = Deadline.Kind.TASK
    title = "Chase the DWP"
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=3))

    @factory.post_generation
    def next_deadline(obj, create, extracted, **kwargs):
        """As the casework services do when they add a deadline: the case's next deadline follows."""
        if create:
            refresh_next_deadline([obj.case_id])


class EvidenceRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvidenceRequest

    case = factory.SubFactory(CaseFactory)
    requested_from = factory.LazyAttribute(lambda o: o.case.referral.referrer)
    requested_by = factory.LazyAttribute(lambda o: o.case.advisor)
    what_is_needed = "A letter about the patient's mobility."
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))


class OnwardReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnwardReferral

    case = factory.SubFactory(CaseFactory)
    referral = factory.LazyAttribute(lambda o: o.case.referral)
    provider = factory.LazyAttribute(
        lambda o: AdviceProviderFactory(advice_organisation=o.case.referral.advice_organisation)
    )
    note = "Specialist tribunal representation."
    made_by = factory.LazyAttribute(lambda o: o.case.advisor)


# --- outcomes -----------------------------------------------------------------------------------------------


class FinancialOutcomeFactory(factory.django.DjangoModelFactory):
    """A confirmed weekly award of £100 (annualised to £5,200 a year), unless told otherwise."""

    class Meta:
        model = FinancialOutcome

    issue = factory.SubFactory(CaseIssueFactory)
    kind = "new_or_increased_award"
    benefit = factory.LazyFunction(lambda: ProblemSubCategory.objects.get(code="pip"))
    recurring_amount = 100
    recurring_period = "weekly"
    annual_amount = factory.LazyAttribute(lambda o: annualise(o.recurring_amount, o.recurring_period))
    one_off_amount = 0
    confirmed = True
    recorded_by = factory.LazyAttribute(lambda o: o.issue.case.advisor)


class DecisionOutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DecisionOutcome

    issue = factory.SubFactory(CaseIssueFactory)
    stage = "initial_claim"
    result = "awarded"
    recorded_by = factory.LazyAttribute(lambda o: o.issue.case.advisor)


class NonFinancialOutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NonFinancialOutcome

    issue = factory.SubFactory(CaseIssueFactory)
    kind = "eviction_prevented"
    recorded_by = factory.LazyAttribute(lambda o: o.issue.case.advisor)


def _swemwbs_item(number: int):
    """Item `number` (1-7) of a score whose seven items add up to the factory's `score`."""
    return factory.LazyAttribute(lambda o: o.score // 7 + (1 if number <= o.score % 7 else 0))


class WellbeingScoreFactory(factory.django.DjangoModelFactory):
    """A SWEMWBS score; pass `score` (7-35) and the seven items are spread to add up to it."""

    class Meta:
        model = WellbeingScore

    class Params:
        score = 21

    case = factory.SubFactory(CaseFactory)
    moment = WellbeingScore.Moment.START
    item_1 = _swemwbs_item(1)
    item_2 = _swemwbs_item(2)
    item_3 = _swemwbs_item(3)
    item_4 = _swemwbs_item(4)
    item_5 = _swemwbs_item(5)
    item_6 = _swemwbs_item(6)
    item_7 = _swemwbs_item(7)
    total = factory.LazyAttribute(lambda o: o.score)
    recorded_by = factory.LazyAttribute(lambda o: o.case.advisor)


# --- referral timeline ------------------------------------------------------------------------------------


class ReferralStatusChangeFactory(factory.django.DjangoModelFactory):
    """A step of a referral's timeline, from submitted, now."""

    class Meta:
        model = ReferralStatusChange

    referral = factory.SubFactory(ReferralFactory)
    from_status = ReferralStatus.SUBMITTED
    to_status = ReferralStatus.ACCEPTED
    actor = factory.LazyAttribute(lambda o: advisor(o.referral.advice_organisation))
    at = factory.LazyFunction(timezone.now)


# --- advice clinics -----------------------------------------------------------------------------------------


class ClinicSessionFactory(factory.django.DjangoModelFactory):
    """A session tomorrow at 10:00 at a practice: six slots of 30 minutes, by an advisor of the partnership's
    advice organisation."""

    class Meta:
        model = ClinicSession

    partnership = factory.SubFactory(PartnershipFactory)
    advisor = factory.LazyAttribute(lambda o: advisor(o.partnership.advice_organisation))
    mode = ClinicMode.PRACTICE
    place = "Riverside Surgery, room 4"
    starts_at = factory.LazyFunction(
        lambda: (timezone.localtime() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    )
    slot_minutes = 30
    slot_count = 6
    published_by = factory.LazyAttribute(lambda o: o.advisor)


class ClinicBookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicBooking

    session = factory.SubFactory(ClinicSessionFactory)
    slot = 0
    referral = factory.LazyAttribute(
        lambda o: ReferralFactory(
            partnership=o.session.partnership, referring_organisation=o.session.partnership.health_organisations.first()
        )
    )
    booked_by = factory.LazyAttribute(lambda o: o.referral.referrer)

"""factory-boy factories for every model the tests build. Users made here have the password PASSWORD."""

from datetime import date, timedelta

import factory
from django.utils import timezone

from hjp.accounts.models import Funding, Membership, Organisation, Partnership, Profession, Role, Team, User
from referrals.models import Consent, Patient, ProblemCategory, Referral, ReferralStatus, Setting, Urgency

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


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
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

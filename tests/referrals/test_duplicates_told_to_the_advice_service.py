"""The open-duplicate check tells a referrer nothing about referrals they cannot see (that would say that a
person is a patient somewhere else): the referral goes, and the advisor sees the possible duplicate at triage
and on the referral's page."""

import importlib
import re
from datetime import date

import pytest
from django.apps import apps
from django.urls import reverse

from referrals import services
from referrals.models import Patient, Referral, ReferralStatus
from referrals.selectors import _same_patient
from tests import factories
from tests.referrals.test_views import referral_post

pytestmark = pytest.mark.django_db

TAKEN = "9434765919"  # an NHS number with an open referral from practice A
FRESH = "4010232137"  # one nobody has referred


@pytest.fixture
def practice_a_referral(partnership):
    practice_a = factories.OrganisationFactory(name="Hillview Medical Centre")
    partnership.health_organisations.add(practice_a)
    return factories.ReferralFactory(
        partnership=partnership,
        referring_organisation=practice_a,
        patient__nhs_number=TAKEN,
        patient__given_name="Maria",
        patient__family_name="Kowalski",
    )


def _sent(client, partnership, nhs_number, family_name):
    """Submit the referral form from practice B (the referrer_user's Riverside Surgery); the responses on the
    way, with what depends on the new referral itself (its id, reference, the patient's NHS number and name,
    one-time tokens) masked."""
    response = client.post(
        reverse("referrals:create"),
        referral_post(partnership, **{"patient-nhs_number": nhs_number, "patient-family_name": family_name}),
        follow=True,
    )
    new = Referral.objects.filter(patient__nhs_number=nhs_number).latest("pk")
    text = response.content.decode()
    spaced = f"{nhs_number[:3]} {nhs_number[3:6]} {nhs_number[6:]}"
    for varying in (new.reference, f"/referrals/{new.pk}/", nhs_number, spaced, family_name):
        text = text.replace(varying, "<masked>")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r'nonce="[^"]+"', "", text)
    text = re.sub(r'name="submission_token" value="[^"]+"', "", text)  # the conversation's form
    chain = [(url.replace(str(new.pk), "<pk>"), status) for url, status in response.redirect_chain]
    return new, chain, response.status_code, text


def test_a_referrer_in_another_practice_learns_nothing_of_an_open_referral_they_cannot_see(
    as_user, referrer_user, partnership, practice_a_referral
):
    client = as_user(referrer_user)
    fresh, fresh_chain, fresh_status, fresh_page = _sent(client, partnership, FRESH, "Zielinska")
    taken, taken_chain, taken_status, taken_page = _sent(client, partnership, TAKEN, "Nowakowska")

    assert (taken_chain, taken_status) == (fresh_chain, fresh_status)
    assert taken_page == fresh_page
    assert taken.status == fresh.status == ReferralStatus.SUBMITTED
    assert practice_a_referral.reference not in taken_page and "Hillview" not in taken_page
    assert "checks whether the patient has already been referred" in client.get(reverse("referrals:create")).text


def test_the_service_refuses_only_a_duplicate_the_referrer_can_see(
    referrer_user, partnership, health_org, practice_a_referral
):
    data = {
        "actor": referrer_user,
        "patient_data": {"given_name": "Maria", "family_name": "Kowalski", "nhs_number": TAKEN},
        "consent_data": {
            "given_by": "patient",
            "method": "verbal",
            "given_at": practice_a_referral.consent.given_at,
            "share_with_advice_service": True,
        },
        "referral_data": {"partnership": partnership, "description": "Debt", "urgency": "routine"},
        "submit": True,
    }
    mine = services.referral_save(**data)  # practice A's referral is invisible: no refusal
    with pytest.raises(services.DuplicateReferralError) as raised:
        services.referral_save(**data)  # their own is visible: refused, and named
    assert raised.value.duplicates == [mine]


def test_the_advisor_sees_the_possible_duplicate_at_triage_and_on_the_referral(
    as_user, referrer_user, advisor_user, partnership, practice_a_referral
):
    as_user(referrer_user).post(
        reverse("referrals:create"), referral_post(partnership, **{"patient-nhs_number": TAKEN}), follow=True
    )
    new = Referral.objects.exclude(pk=practice_a_referral.pk).get()
    client = as_user(advisor_user)

    triage = client.get(reverse("casework:triage")).text
    row = triage[triage.index(new.reference) :]
    row = row[: row.index("</tr>")]
    assert "Possible duplicate" in row
    assert practice_a_referral.reference in row and "Hillview Medical Centre" in row
    assert reverse("referrals:detail", args=[practice_a_referral.pk]) in row

    page = client.get(reverse("referrals:detail", args=[new.pk])).text
    assert "Possible duplicate" in page and practice_a_referral.reference in page
    assert reverse("referrals:detail", args=[practice_a_referral.pk]) in page


def test_no_duplicate_flag_for_a_patient_referred_once(as_user, advisor_user, practice_a_referral):
    client = as_user(advisor_user)
    assert "Possible duplicate" not in client.get(reverse("casework:triage")).text
    assert "Possible duplicate" not in client.get(reverse("referrals:detail", args=[practice_a_referral.pk])).text


def test_the_referrer_side_of_the_referral_page_shows_no_duplicate_flag(
    as_user, referrer_user, partnership, practice_a_referral
):
    client = as_user(referrer_user)
    client.post(reverse("referrals:create"), referral_post(partnership, **{"patient-nhs_number": TAKEN}))
    new = Referral.objects.exclude(pk=practice_a_referral.pk).get()
    assert "Possible duplicate" not in client.get(reverse("referrals:detail", args=[new.pk])).text


@pytest.mark.parametrize("pairs", [2, 9])
def test_triage_finds_duplicates_in_one_query_however_many(
    as_user, advisor_user, partnership, health_org, django_assert_num_queries, pairs
):
    practice_a = factories.OrganisationFactory()
    partnership.health_organisations.add(practice_a)
    for i in range(pairs):
        nhs_number = f"{i:09d}"
        for organisation in (health_org, practice_a):
            factories.ReferralFactory(
                partnership=partnership, referring_organisation=organisation, patient__nhs_number=nhs_number
            )
    client = as_user(advisor_user)
    with django_assert_num_queries(9):  # as tests/casework/test_queries.py pins TRIAGE_QUERIES
        response = client.get(reverse("casework:triage"))
    rows = response.context["page"].object_list
    assert len(rows) == 2 * pairs and all(len(r.possible_duplicates) == 1 for r in rows)


def _sender(partnership, health_org):
    """Sends a referral from health_org of a patient of that name, date of birth and NHS number."""

    def sent(given, family, born, nhs_number=""):
        return factories.ReferralFactory(
            partnership=partnership,
            referring_organisation=health_org,
            patient__given_name=given,
            patient__family_name=family,
            patient__date_of_birth=born,
            patient__nhs_number=nhs_number,
        )

    return sent


def test_triage_matches_the_same_name_in_any_case_only_with_the_same_date_of_birth_or_the_same_nhs_number(
    as_user, advisor_user, partnership, health_org
):
    sent = _sender(partnership, health_org)
    first = sent("Maria", "Kowalski", date(1961, 3, 4))
    same = sent("MARIA", "kowalski", date(1961, 3, 4))
    born_another_day = sent("Maria", "Kowalski", date(1961, 3, 5))
    by_number = sent("Tom", "Hughes", date(1970, 1, 1), nhs_number="9434765919")
    renamed = sent("Thomas", "Hughes-Price", date(1971, 2, 2), nhs_number="9434765919")

    rows = {r.pk: r for r in as_user(advisor_user).get(reverse("casework:triage")).context["page"].object_list}
    assert [d.pk for d in rows[first.pk].possible_duplicates] == [same.pk]
    assert [d.pk for d in rows[same.pk].possible_duplicates] == [first.pk]
    assert rows[born_another_day.pk].possible_duplicates == []
    assert [d.pk for d in rows[by_number.pk].possible_duplicates] == [renamed.pk]


def test_the_same_patient_rule_in_sql_matches_the_name_in_any_case_with_the_date_of_birth_or_the_nhs_number(
    partnership, health_org
):
    """The condition itself, before any check in Python: it must not match more than the rule."""
    sent = _sender(partnership, health_org)
    same = sent("MARIA", "kowalski", date(1961, 3, 4))
    sent("Maria", "Kowalski", date(1961, 3, 5))  # born another day
    sent("Marian", "Kowalski", date(1961, 3, 4))  # another name
    numbered = sent("Tom", "Hughes", date(1970, 1, 1), nhs_number="9434765919")

    def matching(*identities):
        return set(Referral.objects.filter(_same_patient(*identities)).values_list("pk", flat=True))

    assert matching(("", "Maria", "Kowalski", date(1961, 3, 4))) == {same.pk}
    assert matching(("943 476 5919", "Thomas", "Price", date(1971, 2, 2))) == {numbered.pk}
    assert matching(("", "Maria", "Kowalski", None), ("", "", "Kowalski", date(1961, 3, 4))) == set()
    assert matching(("", "Maria", "Kowalski", date(1961, 3, 4)), ("9434765919", "", "", None)) == {
        same.pk,
        numbered.pk,
    }


def test_a_name_saved_with_spaces_around_it_is_stored_without_them_and_found_as_the_same_patient(
    partnership, health_org, referrer_user
):
    """The forms strip names; a caller of the service that skips them (a command, an importer) may not. Stored as
    "maria", the name is found by the same-patient rule in SQL, which compares stored names."""
    first = factories.ReferralFactory(
        partnership=partnership,
        referring_organisation=health_org,
        patient__given_name="Maria",
        patient__family_name="Kowalski",
        patient__date_of_birth=date(1961, 3, 4),
        patient__nhs_number="",
    )
    spaced = services.referral_save(
        actor=referrer_user,
        patient_data={"given_name": "  maria ", "family_name": " KOWALSKI", "date_of_birth": date(1961, 3, 4)},
        consent_data={},
        referral_data={"partnership": partnership, "summary": "Rent arrears"},
    )
    spaced.patient.refresh_from_db()
    assert (spaced.patient.given_name, spaced.patient.family_name) == ("maria", "KOWALSKI")
    assert set(
        Referral.objects.filter(_same_patient(("", "Maria", "Kowalski", date(1961, 3, 4)))).values_list("pk", flat=True)
    ) == {first.pk, spaced.pk}


def test_the_migration_strips_the_spaces_round_names_stored_before(partnership, health_org):
    migration = importlib.import_module("referrals.migrations.0027_patient_names_without_surrounding_spaces")
    spaced = _sender(partnership, health_org)(" Maria", "Kowalski\t", date(1961, 3, 4)).patient
    plain = _sender(partnership, health_org)("Tom", "Hughes", date(1970, 1, 1)).patient
    Patient.objects.filter(pk=spaced.pk).update(given_name=" Maria", family_name="Kowalski\t")  # as stored before
    migration.strip_names(apps, None)
    names = dict(
        (pk, (given, family)) for pk, given, family in Patient.objects.values_list("pk", "given_name", "family_name")
    )
    assert names[spaced.pk] == ("Maria", "Kowalski") and names[plain.pk] == ("Tom", "Hughes")

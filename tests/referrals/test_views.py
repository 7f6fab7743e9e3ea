from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from hjp.audit.models import AuditEvent
from referrals.models import ProblemCategory, Referral, ReferralStatus
from tests import factories
from tests.support.forms import once
from tests.support.pages import listed

S = ReferralStatus


def referral_post(partnership, action="submit", **overrides):
    benefits = ProblemCategory.objects.get(code="benefits")
    data = {
        "action": action,
        "consent-given_by": "patient",
        "consent-method": "verbal",
        "consent-given_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "consent-share_with_advice_service": "on",
        "consent-medical_evidence": "on",
        "patient-given_name": "Maria",
        "patient-family_name": "Kowalski",
        "patient-date_of_birth_day": "14",
        "patient-date_of_birth_month": "3",
        "patient-date_of_birth_year": "1958",
        "patient-nhs_number": "943 476 5919",
        "patient-address": "12 Mill Lane",
        "patient-postcode": "ls6 2ab",
        "patient-phone": "07700 900123",
        "patient-preferred_contact_method": "phone",
        "patient-language": "Polish",
        "patient-interpreter_needed": "on",
        "referral-partnership": str(partnership.pk),
        "referral-categories": [str(benefits.pk)],
        "referral-description": "PIP refused after assessment.",
        "referral-urgency": "urgent",
        "referral-setting": "primary_care",
        "referral-known_deadline": "2026-11-20",
        "referral-known_deadline_note": "PIP decision letter",
        "referral-known_deadline_kind": "decision_letter",
    }
    data.update(overrides)
    return once({k: v for k, v in data.items() if v is not None}, prefix="referral")


@pytest.mark.django_db
def test_a_referrer_submits_a_consented_referral_and_finds_it_with_its_timeline(as_user, referrer_user, partnership):
    client = as_user(referrer_user)

    response = client.post(reverse("referrals:create"), referral_post(partnership))

    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert referral.status == S.SUBMITTED
    assert referral.patient.nhs_number == "9434765919" and referral.patient.interpreter_needed
    listing = client.get(reverse("referrals:list")).content.decode()
    assert referral.reference in listing and "Maria Kowalski" in listing
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Submitted</strong> by" in page and escape(referrer_user.full_name) in page
    assert "PIP decision letter" in page


@pytest.mark.django_db
def test_the_partnership_is_preselected_when_the_organisation_has_one(as_user, referrer_user, partnership):
    html = as_user(referrer_user).get(reverse("referrals:create")).content.decode()
    assert f'<option value="{partnership.pk}" selected>' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("patient-nhs_number", "943 476 5918", "check digit"),
        ("patient-nhs_number", "943 476", "Enter an NHS number in the correct format, like 485 777 3456"),
        ("patient-postcode", "NOT A CODE", "Enter a real postcode, like SW1A 1AA"),
        ("patient-date_of_birth_year", str(timezone.localdate().year + 1), "Date of birth must be in the past"),
        ("patient-date_of_birth_day", "", "Date of birth must include a day"),
        ("patient-given_name", "x" * 101, "First name must be 100 characters or fewer"),
        ("patient-given_name", "", "Enter the patient&#x27;s first name"),
        ("consent-share_with_advice_service", None, "a referral cannot be sent without it"),
        ("consent-method", None, "Select how consent was given"),
        ("referral-setting", "inpatient", "Enter the expected discharge date: the patient is an inpatient"),
        ("referral-categories", None, "Select at least one thing the patient needs help with"),
    ],
)
def test_bad_input_is_explained_in_the_summary_and_beside_the_field_and_nothing_typed_is_lost(
    as_user, referrer_user, partnership, field, value, message
):
    response = as_user(referrer_user).post(reverse("referrals:create"), referral_post(partnership, **{field: value}))

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-summary"' in html and message in html
    assert "invalid-feedback" in html or "text-danger" in html
    assert 'value="12 Mill Lane"' in html or "12 Mill Lane</textarea>" in html
    assert 'value="07700 900123"' in html and "PIP refused after assessment." in html
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_the_error_summary_links_to_each_field(as_user, referrer_user, partnership):
    html = (
        as_user(referrer_user)
        .post(reverse("referrals:create"), referral_post(partnership, **{"patient-nhs_number": "1234567890"}))
        .content.decode()
    )
    assert 'href="#id_patient-nhs_number"' in html and 'id="id_patient-nhs_number"' in html


@pytest.mark.django_db
def test_a_draft_needs_only_a_name_and_is_not_sent(as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    response = client.post(
        reverse("referrals:create"),
        once(
            {
                "action": "draft",
                "patient-given_name": "Maria",
                "patient-family_name": "K",
                "referral-partnership": partnership.pk,
                "referral-urgency": "routine",
                "consent-given_by": "patient",
            },
            prefix="referral",
        ),
    )
    draft = Referral.objects.get()
    assert response.status_code == 302 and draft.status == S.DRAFT
    # The advice service cannot see a draft.
    advisor = factories.advisor(partnership.advice_organisation)
    assert as_user(advisor).get(reverse("referrals:detail", args=[draft.pk])).status_code == 404
    # The referrer finishes and submits it.
    client = as_user(referrer_user)
    response = client.post(
        reverse("referrals:edit", args=[draft.pk]), referral_post(partnership, **{"referral-version": draft.version})
    )
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.status == S.SUBMITTED


@pytest.mark.django_db
def test_duplicate_warning_then_going_on_with_a_reason(as_user, referrer_user, partnership, health_org):
    existing = factories.ReferralFactory(
        partnership=partnership,
        referring_organisation=health_org,
        referrer=referrer_user,
        patient__nhs_number="9434765919",
    )
    client = as_user(referrer_user)

    warned = client.post(reverse("referrals:create"), referral_post(partnership))
    html = warned.content.decode()
    assert warned.status_code == 400
    assert "already has an open referral" in html and existing.reference in html
    assert Referral.objects.count() == 1

    sent = client.post(
        reverse("referrals:create"),
        referral_post(partnership, **{"referral-duplicate_reason": "New problem: housing disrepair"}),
    )
    assert sent.status_code == 302
    new = Referral.objects.exclude(pk=existing.pk).get()
    assert new.status == S.SUBMITTED and new.duplicate_reason == "New problem: housing disrepair"


@pytest.mark.django_db
def test_a_duplicate_made_elsewhere_is_not_revealed_to_the_referrer(as_user, referrer_user, partnership):
    # The rest of this rule (the same answer as for a new patient; the advisor told at triage) is in
    # tests/referrals/test_duplicates_told_to_the_advice_service.py.
    elsewhere = factories.OrganisationFactory()
    partnership.health_organisations.add(elsewhere)
    theirs = factories.ReferralFactory(
        partnership=partnership, referring_organisation=elsewhere, patient__nhs_number="9434765919"
    )
    response = as_user(referrer_user).post(reverse("referrals:create"), referral_post(partnership), follow=True)
    html = response.content.decode()
    assert "already has an open referral" not in html and "someone else" not in html
    assert theirs.reference not in html
    assert Referral.objects.exclude(pk=theirs.pk).get().status == S.SUBMITTED


@pytest.mark.django_db
def test_same_name_and_birth_date_also_counts_as_a_duplicate(as_user, referrer_user, partnership, health_org):
    factories.ReferralFactory(
        partnership=partnership,
        referring_organisation=health_org,
        referrer=referrer_user,
        patient__given_name="maria",
        patient__family_name="KOWALSKI",
        patient__date_of_birth="1958-03-14",
    )
    response = as_user(referrer_user).post(
        reverse("referrals:create"), referral_post(partnership, **{"patient-nhs_number": ""})
    )
    assert "already has an open referral" in response.content.decode()


@pytest.mark.django_db
def test_a_closed_referral_of_the_same_patient_is_not_a_duplicate(as_user, referrer_user, partnership, health_org):
    closed = factories.ReferralFactory(
        partnership=partnership, referring_organisation=health_org, status=S.CLOSED, patient__nhs_number="9434765919"
    )
    response = as_user(referrer_user).post(reverse("referrals:create"), referral_post(partnership), follow=True)
    new = Referral.objects.exclude(pk=closed.pk).get()
    # Sent straight away, with no duplicate warning on the way: the referrer lands on the new referral's page.
    assert response.redirect_chain[-1][0] == reverse("referrals:detail", args=[new.pk])
    assert new.status == S.SUBMITTED and new.duplicate_reason == ""
    assert "already has an open referral" not in response.content.decode()


@pytest.mark.django_db
def test_my_referrals_filters_by_state_and_text_newest_first(as_user, referrer_user, health_org, partnership):
    def make(name, status, days):
        return factories.ReferralFactory(
            referrer=referrer_user,
            referring_organisation=health_org,
            partnership=partnership,
            status=status,
            patient__family_name=name,
            submitted_at=timezone.now() - timedelta(days=days),
        )

    old = make("Oldest", S.SUBMITTED, 30)
    new = make("Newest", S.SUBMITTED, 1)
    closed = make("Closedson", S.CLOSED, 10)
    client = as_user(referrer_user)

    html = client.get(reverse("referrals:list")).content.decode()
    assert html.index(new.reference) < html.index(closed.reference) < html.index(old.reference)
    assert "30 days" in html

    html = client.get(reverse("referrals:list"), {"status": "closed"}).content.decode()
    assert closed.reference in html and new.reference not in html

    html = client.post(reverse("referrals:list"), {"q": "oldest"}, follow=True).content.decode()
    assert old.reference in html and new.reference not in html

    html = client.get(reverse("referrals:list"), {"status": "nonsense"}).content.decode()
    assert "Select the state from the list" in html


@pytest.mark.django_db
def test_shared_visibility_shows_colleagues_referrals_but_not_their_drafts(as_user, health_org, partnership):
    colleague_referral = factories.ReferralFactory(referring_organisation=health_org, partnership=partnership)
    colleague_draft = factories.ReferralFactory(
        referring_organisation=health_org, partnership=partnership, status=S.DRAFT, submitted_at=None
    )
    me = factories.referrer(health_org)
    client = as_user(me)
    assert colleague_referral.reference not in client.get(reverse("referrals:list")).content.decode()
    assert client.get(reverse("referrals:detail", args=[colleague_referral.pk])).status_code == 404

    health_org.shares_referrals_internally = True
    health_org.save()
    me = type(me).objects.get(pk=me.pk)
    client = as_user(me)
    html = client.get(reverse("referrals:list")).content.decode()
    assert colleague_referral.reference in html and colleague_draft.reference not in html
    assert client.get(reverse("referrals:detail", args=[colleague_referral.pk])).status_code == 200
    assert client.get(reverse("referrals:detail", args=[colleague_draft.pk])).status_code == 404


MY_REFERRALS_QUERIES = 6  # no COUNT of the whole list: the next page is found by the last row's key


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [3, 28])
def test_my_referrals_query_count_does_not_grow_with_rows(
    as_user, referrer_user, health_org, partnership, django_assert_num_queries, rows
):
    client = as_user(referrer_user)
    for _ in range(rows):
        factories.ReferralFactory(referrer=referrer_user, referring_organisation=health_org, partnership=partnership)
    with django_assert_num_queries(MY_REFERRALS_QUERIES):
        response = client.get(reverse("referrals:list"))
    assert len(listed(client, response)) == rows


@pytest.mark.django_db
def test_cancel_before_acceptance_needs_a_reason_and_shows_on_the_timeline(as_user, referral):
    client = as_user(referral.referrer)
    url = reverse("referrals:cancel", args=[referral.pk])
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400 and "Enter why you are cancelling this referral" in refused.content.decode()

    done = client.post(url, {"reason": "Patient found help elsewhere"})
    referral.refresh_from_db()
    assert done.status_code == 302 and referral.status == S.CANCELLED
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Patient found help elsewhere" in page and "Cancelled</strong>" in page


@pytest.mark.django_db
def test_cancelling_after_acceptance_is_refused_with_a_message(as_user, referral):
    referral.status = S.ACCEPTED
    referral.save()
    response = as_user(referral.referrer).post(
        reverse("referrals:cancel", args=[referral.pk]), {"reason": "Changed"}, follow=True
    )
    assert "A referral that is accepted cannot be changed that way." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == S.ACCEPTED


@pytest.mark.django_db
def test_marking_entered_in_error(as_user, referral):
    response = as_user(referral.referrer).post(
        reverse("referrals:entered_in_error", args=[referral.pk]), {"reason": "Wrong patient"}, follow=True
    )
    referral.refresh_from_db()
    assert referral.status == S.ENTERED_IN_ERROR
    assert response.redirect_chain[-1][0] == reverse("referrals:detail", args=[referral.pk])
    page = response.content.decode()
    assert "Entered in error</strong>" in page and "Wrong patient" in page


@pytest.mark.django_db
def test_withdrawing_consent_from_the_referral_page(as_user, referral):
    referral.patient.family_name = "Wojciechowska"
    referral.patient.postcode = "LS6 2AB"
    referral.patient.save()
    client = as_user(referral.referrer)
    detail = reverse("referrals:detail", args=[referral.pk])
    assert "Wojciechowska" in client.get(detail).content.decode()
    url = reverse("referrals:withdraw_consent", args=[referral.pk])
    unconfirmed = client.post(url, {"note": "Patient rang"})
    assert unconfirmed.status_code == 400 and "Wojciechowska" in client.get(detail).content.decode()
    referral.refresh_from_db()
    assert referral.status != S.CANCELLED  # an unconfirmed withdrawal changes nothing
    client.post(url, {"note": "Patient rang", "confirm": "on"})
    referral.refresh_from_db()
    page = client.get(detail).content.decode()
    assert referral.status == S.CANCELLED
    assert "Details removed (consent withdrawn on" in page and "Consent withdrawn" in page
    assert "Wojciechowska" not in page and "LS6 2AB" not in page
    assert referral.patient.family_name != "Wojciechowska" and referral.patient.postcode == ""
    assert referral.patient.redacted_at is not None


@pytest.mark.django_db
def test_patient_pages_are_audited_and_never_cached(as_user, referral):
    client = as_user(referral.referrer)
    response = client.get(reverse("referrals:detail", args=[referral.pk]), REMOTE_ADDR="10.1.2.3")
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(referral.pk)).get()
    assert event.actor == referral.referrer and event.ip_address == "10.1.2.3"
    assert event.object_type == "referrals.referral" and event.path.endswith(f"/referrals/{referral.pk}/")
    client.get(reverse("referrals:list"))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LIST, actor=referral.referrer).exists()


@pytest.mark.django_db
def test_opening_a_draft_to_edit_it_is_audited(as_user, referrer_user, partnership, health_org):
    draft = factories.ReferralFactory(
        referrer=referrer_user,
        referring_organisation=health_org,
        partnership=partnership,
        status=S.DRAFT,
        submitted_at=None,
        patient__family_name="Kowalski",
    )
    response = as_user(referrer_user).get(reverse("referrals:edit", args=[draft.pk]))
    assert response.status_code == 200 and "Kowalski" in response.content.decode()
    assert AuditEvent.objects.filter(
        actor=referrer_user, action=AuditEvent.Action.VIEW, object_type="referrals.referral", object_id=str(draft.pk)
    ).exists()

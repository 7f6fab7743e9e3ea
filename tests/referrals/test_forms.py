"""The referral form's questions: their messages, their order, the date of birth boxes, sex as a choice."""

import importlib
import re
from datetime import date

import pytest
from django import forms as django_forms
from django.apps import apps
from django.template.loader import render_to_string
from django.urls import reverse

from hjp.accounts.models import Partnership
from hjp.core.forms import error_summary
from referrals.forms import ConsentForm, PatientForm, ReferralForm
from referrals.models import Patient, ProblemCategory, Referral, Sex
from tests import factories
from tests.referrals.test_views import referral_post

pytestmark = pytest.mark.django_db

sex_migration = importlib.import_module("referrals.migrations.0007_patient_sex_choices")


def consent_data(**overrides):
    data = {
        "consent-given_by": "patient",
        "consent-method": "verbal",
        "consent-given_at": "2026-01-05T10:30",
        "consent-share_with_advice_service": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_representative_s_name_and_authority_are_needed_only_when_a_representative_consented():
    form = ConsentForm(consent_data(**{"consent-given_by": "representative"}), prefix="consent", submitting=True)
    assert not form.is_valid()
    assert form.errors["representative_name"] == ["Enter the full name of the representative who gave consent"]
    assert form.errors["representative_authority"] == [
        "Enter the representative's authority to consent, for example lasting power of attorney"
    ]

    # The patient consented: what was typed about a representative (before changing the answer) is not kept.
    form = ConsentForm(
        consent_data(**{"consent-representative_name": "Jo Bloggs", "consent-representative_authority": "LPA"}),
        prefix="consent",
        submitting=True,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["representative_name"] == "" and form.cleaned_data["representative_authority"] == ""


def test_consent_questions_say_what_to_do():
    form = ConsentForm({"consent-given_at": "yesterday"}, prefix="consent", submitting=True)
    assert not form.is_valid()
    assert form.errors["given_by"] == ["Select who gave consent"]
    assert form.errors["method"] == ["Select how consent was given"]
    assert form.errors["given_at"] == ["Enter a real date and time for when consent was given"]


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("", "", "", "Enter the patient's date of birth"),
        ("31", "2", "1980", "Enter a real date of birth"),
        ("14", "", "1958", "Date of birth must include a month"),
        ("14", "3", "58", "The year of birth must include 4 numbers, like 1958"),
        ("1", "1", str(date.today().year + 1), "Date of birth must be in the past"),
    ],
)
def test_date_of_birth_messages(day, month, year, message):
    data = {
        "patient-given_name": "Maria",
        "patient-family_name": "K",
        "patient-phone": "07700 900123",
        "patient-preferred_contact_method": "phone",
        "patient-date_of_birth_day": day,
        "patient-date_of_birth_month": month,
        "patient-date_of_birth_year": year,
    }
    form = PatientForm(data, prefix="patient", submitting=True)
    assert not form.is_valid()
    assert form.errors["date_of_birth"] == [message]


def test_a_draft_may_leave_the_date_of_birth_empty_but_it_is_not_marked_optional():
    form = PatientForm({"patient-given_name": "Maria", "patient-family_name": "K"}, prefix="patient")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["date_of_birth"] is None
    assert not PatientForm(prefix="patient")["date_of_birth"].is_optional
    assert PatientForm(prefix="patient")["nhs_number"].is_optional


def test_patient_errors_are_listed_in_the_order_of_the_page():
    data = {
        "patient-given_name": "",
        "patient-family_name": "",
        "patient-date_of_birth_day": "31",
        "patient-date_of_birth_month": "2",
        "patient-date_of_birth_year": "1980",
        "patient-nhs_number": "12",
        "patient-postcode": "nope",
        "patient-email": "not-an-email",
    }
    form = PatientForm(data, prefix="patient", submitting=True)
    assert not form.is_valid()
    items = error_summary(form)
    assert [i["field_id"] for i in items] == [
        "id_patient-given_name",
        "id_patient-family_name",
        "id_patient-date_of_birth_day",
        "id_patient-nhs_number",
        "id_patient-postcode",
        "id_patient-email",
        "id_patient-preferred_contact_method_0",
    ]


def test_with_no_way_to_contact_the_patient_the_message_is_on_the_address():
    form = PatientForm({"patient-given_name": "Maria", "patient-family_name": "K"}, prefix="patient", submitting=True)
    assert not form.is_valid()
    assert form.errors["address"] == [
        "Enter the patient's address, phone number or email address: the advisor needs a way to contact them"
    ]


@pytest.mark.parametrize("answer", [Sex.FEMALE, Sex.PREFER_NOT_TO_SAY, ""])
def test_sex_is_a_choice_and_never_required(answer):
    form = PatientForm(
        {"patient-given_name": "Maria", "patient-family_name": "K", "patient-sex": answer}, prefix="patient"
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["sex"] == answer


def test_sex_typed_as_free_text_is_refused_with_a_message():
    form = PatientForm(
        {"patient-given_name": "Maria", "patient-family_name": "K", "patient-sex": "woman"}, prefix="patient"
    )
    assert not form.is_valid()
    assert form.errors["sex"] == ["Select the sex from the list"]


def test_the_migration_maps_free_text_sex_where_it_is_unambiguous():
    typed = {
        "F": "female",
        " Male ": "male",
        "woman": "female",
        "Intersex": "another",
        "Prefer not to say.": "prefer_not_to_say",
        "unknown": "",
        "trans man": "trans man",
        "": "",
    }
    patients = {text: factories.PatientFactory(sex=text) for text in typed}

    sex_migration.sex_to_choices(apps, None)

    for text, expected in typed.items():
        patients[text].refresh_from_db()
        assert patients[text].sex == expected, text


def summary_links(html: str) -> list[str]:
    summary = html[html.index('id="error-summary"') : html.index("</div>", html.index('id="error-summary"'))]
    return re.findall(r'href="#([^"]+)"', summary)


def test_the_error_summary_on_the_page_follows_the_order_of_the_fields(as_user, referrer_user, partnership):
    response = as_user(referrer_user).post(
        reverse("referrals:create"),
        referral_post(
            partnership,
            **{
                "consent-method": None,
                "patient-given_name": "",
                "patient-date_of_birth_day": "31",
                "patient-date_of_birth_month": "2",
                "patient-postcode": "nope",
                "referral-categories": None,
                "referral-setting": "inpatient",
                "referral-known_deadline_note": "",
            },
        ),
    )
    html = response.content.decode()
    links = summary_links(html)
    assert links == [
        "id_consent-method_0",
        "id_patient-given_name",
        "id_patient-date_of_birth_day",
        "id_patient-postcode",
        "id_referral-categories_0",
        "id_referral-expected_discharge_date",
        "id_referral-known_deadline_note",
    ]
    form = html[html.index("<form") :]
    positions = [form.index(f'id="{anchor}"') for anchor in links]
    assert positions == sorted(positions)


def test_a_failed_submit_keeps_everything_typed_even_an_impossible_date(as_user, referrer_user, partnership):
    response = as_user(referrer_user).post(
        reverse("referrals:create"),
        referral_post(
            partnership,
            **{
                "patient-date_of_birth_day": "31",
                "patient-date_of_birth_month": "2",
                "patient-date_of_birth_year": "1980",
                "patient-email": "maria@example.com",
                "patient-contact_times": "Mornings",
                "patient-may_leave_message": "on",
                "patient-access_needs": "Large print",
                "patient-sex": "female",
                "patient-ethnicity": "Polish",
                "consent-outcome_feedback": "on",
                "consent-given_by": "representative",
                "consent-representative_name": "Jan Kowalski",
                "consent-representative_authority": "Lasting power of attorney",
            },
        ),
    )
    html = response.content.decode()
    assert response.status_code == 400 and "Enter a real date of birth" in html
    for value in (
        'value="31"',
        'value="2"',
        'value="1980"',
        'value="Maria"',
        'value="Kowalski"',
        'value="943 476 5919"',
        'value="ls6 2ab"',
        'value="07700 900123"',
        'value="maria@example.com"',
        'value="Mornings"',
        'value="Polish"',
        'value="Jan Kowalski"',
        'value="Lasting power of attorney"',
        'value="PIP decision letter"',
        'value="2026-11-20"',
        "12 Mill Lane</textarea>",
        "Large print</textarea>",
        "PIP refused after assessment.</textarea>",
    ):
        assert value in html, value
    for checked in (
        "consent-given_by_1",
        "consent-method_0",
        "consent-share_with_advice_service",
        "consent-medical_evidence",
        "consent-outcome_feedback",
        "patient-preferred_contact_method_0",
        "patient-may_leave_message",
        "patient-interpreter_needed",
        "patient-sex_0",
        "referral-urgency_1",
        "referral-categories_0",
    ):
        tag = re.search(rf'<input[^>]*id="id_{checked}"[^>]*>', html).group(0)
        assert " checked" in tag, checked
    assert '<option value="primary_care" selected>' in html
    assert not Referral.objects.exists()


def test_editing_a_draft_shows_the_date_of_birth_in_its_boxes(as_user, referrer_user, partnership, health_org):
    draft = factories.ReferralFactory(
        referrer=referrer_user,
        referring_organisation=health_org,
        partnership=partnership,
        status="draft",
        submitted_at=None,
        patient__date_of_birth=date(1960, 5, 17),
        patient__sex=Sex.MALE,
    )
    html = as_user(referrer_user).get(reverse("referrals:edit", args=[draft.pk])).content.decode()
    for box, value in (("day", "17"), ("month", "5"), ("year", "1960")):
        tag = re.search(rf'<input[^>]*id="id_patient-date_of_birth_{box}"[^>]*>', html).group(0)
        assert f'value="{value}"' in tag and f'autocomplete="bday-{box}"' in tag and 'inputmode="numeric"' in tag
    sex = re.search(r'<input[^>]*value="male"[^>]*>', html).group(0)
    assert "checked" in sex


def test_the_blank_form_marks_optional_questions_and_has_no_dashes_in_selects(as_user, referrer_user, partnership):
    factories.PartnershipFactory(health_organisations=[partnership.health_organisations.first()])
    html = as_user(referrer_user).get(reverse("referrals:create")).content.decode()
    assert "---------" not in html and "Select an option" not in html
    assert "Choose an advice service</option>" in html and "Choose a setting</option>" in html
    assert re.search(r'NHS number <span class="optional">\(optional\)</span>', html)
    assert not re.search(r"Date of birth\s*<span class=\"optional\">", html)
    assert "asteriskField" not in html
    # Each hint and error is tied to its field.
    assert re.search(
        r'<input[^>]*aria-describedby="id_patient-nhs_number_helptext"[^>]*id="id_patient-nhs_number"', html
    )


def test_a_representative_s_details_are_saved_only_with_a_representative(as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    client.post(
        reverse("referrals:create"),
        referral_post(partnership, **{"consent-representative_name": "Typed then changed my mind"}),
    )
    referral = Referral.objects.get()
    assert referral.consent.representative_name == ""

    Referral.objects.all().delete()
    Patient.objects.all().delete()
    client.post(
        reverse("referrals:create"),
        referral_post(
            partnership,
            **{
                "consent-given_by": "representative",
                "consent-representative_name": "Jan Kowalski",
                "consent-representative_authority": "Appointee",
            },
        ),
    )
    consent = Referral.objects.get().consent
    assert consent.representative_name == "Jan Kowalski" and consent.representative_authority == "Appointee"


def test_after_submitting_the_referrer_is_told_what_happens_next(as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    response = client.post(reverse("referrals:create"), referral_post(partnership), follow=True)
    html = response.content.decode()
    assert "What happens next" in html
    assert f"{partnership.advice_organisation.name} reviews the referral" in html
    assert "inbox" in html and "Record consent withdrawal" in html
    assert "The advisor may ask you for medical evidence" in html

    advisor = factories.advisor(partnership.advice_organisation)
    referral = Referral.objects.get()
    advisor_page = as_user(advisor).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "What happens next" not in advisor_page


def test_a_discharge_date_is_kept_only_for_an_inpatient(as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    client.post(
        reverse("referrals:create"), referral_post(partnership, **{"referral-expected_discharge_date": "2026-12-01"})
    )
    assert Referral.objects.get().expected_discharge_date is None

    Referral.objects.all().delete()
    Patient.objects.all().delete()
    client.post(
        reverse("referrals:create"),
        referral_post(
            partnership, **{"referral-setting": "inpatient", "referral-expected_discharge_date": "2026-12-01"}
        ),
    )
    assert Referral.objects.get().expected_discharge_date == date(2026, 12, 1)


def test_hidden_fields_of_each_form_are_rendered(rf, referrer_user, partnership):
    """Fields the page does not lay out by hand (a one-time submission token, a version) still reach the
    browser: the template renders every form's hidden fields."""
    patient, consent = PatientForm(prefix="patient"), ConsentForm(prefix="consent")
    referral = ReferralForm(
        prefix="referral",
        partnerships=Partnership.objects.filter(pk=partnership.pk),
        categories=ProblemCategory.objects.all(),
    )
    for form, value in ((patient, "p1"), (consent, "c1"), (referral, "r1")):
        form.fields["token"] = django_forms.CharField(widget=django_forms.HiddenInput, initial=value)
    request = rf.get("/referrals/new/")
    request.user = referrer_user
    html = render_to_string(
        "referrals/referral_form.html",
        {"patient_form": patient, "consent_form": consent, "referral_form": referral},
        request=request,
    )
    for name, value in (("patient-token", "p1"), ("consent-token", "c1"), ("referral-token", "r1")):
        assert f'<input type="hidden" name="{name}" value="{value}"' in html


def test_editing_a_draft_shows_the_nhs_number_as_every_page_does(as_user, referrer_user, partnership, health_org):
    draft = factories.ReferralFactory(
        referrer=referrer_user,
        referring_organisation=health_org,
        partnership=partnership,
        status="draft",
        submitted_at=None,
        patient__nhs_number="9434765919",
    )
    html = as_user(referrer_user).get(reverse("referrals:edit", args=[draft.pk])).content.decode()
    tag = re.search(r'<input[^>]*id="id_patient-nhs_number"[^>]*>', html).group(0)
    assert 'value="943 476 5919"' in tag


def test_a_key_date_must_say_whether_it_is_a_decision_letter(as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    response = client.post(
        reverse("referrals:create"), referral_post(partnership, **{"referral-known_deadline_kind": None})
    )
    assert response.status_code == 400 and not Referral.objects.exists()
    assert "Select whether the key date is a decision letter or a deadline" in response.content.decode()

    client.post(reverse("referrals:create"), referral_post(partnership))
    referral = Referral.objects.get()
    assert referral.known_deadline_kind == "decision_letter" and referral.known_deadline_due == date(2026, 12, 20)
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Decision letter dated 20 Nov 2026: mandatory reconsideration due 20 Dec 2026 (PIP decision letter)" in page


def test_with_no_key_date_nothing_is_kept_about_what_it_is(as_user, referrer_user, partnership):
    as_user(referrer_user).post(
        reverse("referrals:create"),
        referral_post(partnership, **{"referral-known_deadline": "", "referral-known_deadline_note": ""}),
    )
    referral = Referral.objects.get()
    assert referral.known_deadline is None and referral.known_deadline_kind == ""

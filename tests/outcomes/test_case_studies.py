"""Case studies: an advisor writes an anonymised story with the patient's recorded agreement, a supervisor of the
same service approves it or returns it, a manager includes it in the funder report, where funders read it; a
withdrawal of consent or of the agreement erases it."""

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from casework import services as casework_services
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from hjp.core.redaction import REDACTED, ErasureReason
from outcomes import case_studies
from outcomes.case_studies import CASE_STUDY_TRANSITIONS
from outcomes.models import CaseStudy, CaseStudyState
from referrals import services as referral_services
from tests import factories
from tests.support.pages import looks_missing

pytestmark = pytest.mark.django_db
S = CaseStudyState
STORY = {
    "title": "A tribunal win",
    "story": "A man in his sixties was refused Attendance Allowance.",
    "outcome_summary": "Awarded at the higher rate.",
}


@pytest.fixture
def case(referral, advisor_user):
    return casework_services.referral_accept(referral=referral, actor=advisor_user)


def write(case, actor, **overrides):
    return case_studies.case_study_write(case=case, actor=actor, agreement_method="written", **(STORY | overrides))


def test_the_advisor_writes_a_story_only_with_the_patients_agreement(as_user, case, advisor_user):
    url = reverse("outcomes:case_study_add", args=[case.pk])
    client = as_user(advisor_user)
    assert "Write a case study" in client.get(reverse("outcomes:case_outcomes", args=[case.pk])).content.decode()
    page = client.get(url).content.decode()
    token = page.split('name="submission_token" value="')[1].split('"')[0]
    refused = client.post(url, STORY | {"submission_token": token})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "A story can only be written when the patient has agreed to it" in html
    assert "Say how the patient agreed" in html and "A tribunal win" in html  # what was typed stays
    assert not CaseStudy.objects.exists()

    sent = client.post(url, STORY | {"submission_token": token, "patient_agreed": "on", "agreement_method": "verbal"})
    story = CaseStudy.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("outcomes:case_study", args=[story.pk])
    assert (story.state, story.agreement_method, story.agreement_recorded_by) == (S.SUBMITTED, "verbal", advisor_user)
    assert story.agreement_recorded_at is not None
    client.post(url, STORY | {"submission_token": token, "patient_agreed": "on", "agreement_method": "verbal"})
    assert CaseStudy.objects.count() == 1  # the same form sent twice saves once
    assert AuditEvent.objects.filter(object_id=str(story.pk), action="create", summary="case study submitted").exists()


def test_a_supervisor_returns_it_with_a_comment_the_author_changes_it_and_it_is_approved(
    as_user, case, advisor_user, supervisor_user
):
    story = write(case, advisor_user)
    supervisor = as_user(supervisor_user)
    review = reverse("outcomes:case_study_review", args=[story.pk])
    no_comment = supervisor.post(review, {"decision": "return", "comment": " "})
    assert no_comment.status_code == 400 and "Say what the advisor should change" in no_comment.content.decode()
    supervisor.post(review, {"decision": "return", "comment": "Leave out the town's name."})
    story.refresh_from_db()
    assert (story.state, story.review_comment, story.reviewed_by) == (
        S.RETURNED,
        "Leave out the town's name.",
        supervisor_user,
    )

    advisor = as_user(advisor_user)
    change = reverse("outcomes:case_study_revise", args=[story.pk])
    assert "Leave out the town&#x27;s name." in advisor.get(change).content.decode()
    advisor.post(change, STORY | {"story": "A man in his sixties, anonymised."})
    story.refresh_from_db()
    assert (story.state, story.story) == (S.SUBMITTED, "A man in his sixties, anonymised.")

    as_user(supervisor_user).post(review, {"decision": "approve", "comment": ""})
    story.refresh_from_db()
    assert story.state == S.APPROVED
    assert list(
        AuditEvent.objects.filter(object_type="outcomes.casestudy", object_id=str(story.pk), action="transition")
        .order_by("pk")
        .values_list("summary", flat=True)
    ) == [
        "case study: Waiting for review -> Returned for changes",
        "case study: Returned for changes -> Waiting for review",
        "case study: Waiting for review -> Approved",
    ]


def test_a_supervisor_does_not_approve_their_own_story_nor_another_services(
    as_user, case, supervisor_user, advisor_user
):
    own = write(case, supervisor_user)
    response = as_user(supervisor_user).get(reverse("outcomes:case_study_review", args=[own.pk]))
    assert response.status_code == 302  # back to the story: nothing to review
    other_supervisor = factories.advisor(factories.AdviceOrganisationFactory(), supervisor=True)
    response = as_user(other_supervisor).get(reverse("outcomes:case_study_review", args=[own.pk]))
    assert response.status_code == 404 and looks_missing(response)


def test_a_manager_includes_an_approved_story_and_funders_read_only_that(
    as_user, case, advisor_user, supervisor_user, manager_user, funder_user, partnership
):
    included = write(case, advisor_user, title="Included story")
    case_studies.case_study_review(story=included, actor=supervisor_user, approve=True)
    waiting = write(case, advisor_user, title="Still waiting")
    approved_only = write(case, advisor_user, title="Approved, left out")
    case_studies.case_study_review(story=approved_only, actor=supervisor_user, approve=True)

    manager = as_user(manager_user)
    listed = manager.get(reverse("outcomes:case_studies")).content.decode()
    assert "Included story" in listed and "Approved, left out" in listed and "Still waiting" not in listed
    assert manager.get(reverse("outcomes:case_study", args=[waiting.pk])).status_code == 404
    detail = manager.get(reverse("outcomes:case_study", args=[included.pk])).content.decode()
    assert "Include it in the funder report" in detail and case.reference not in detail
    manager.post(reverse("outcomes:case_study_include", args=[included.pk]), {"include": "yes"})
    included.refresh_from_db()
    assert (included.state, included.included_by) == (S.INCLUDED, manager_user)

    funder = as_user(funder_user)
    report = funder.get(reverse("outcomes:funder_report")).content.decode()
    assert "Included story" in report and STORY["story"] in report and "Awarded at the higher rate." in report
    assert "Approved, left out" not in report and "Still waiting" not in report
    assert case.reference not in report and advisor_user.full_name not in report
    # The PDF of the report carries the same stories, and only those.
    pdf = funder.get(reverse("outcomes:funder_report_pdf"))
    pdf_text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages))
    assert "Included story" in pdf_text and "Awarded at the higher rate." in pdf_text
    assert "Approved, left out" not in pdf_text and "Still waiting" not in pdf_text
    for url in (reverse("outcomes:case_study", args=[included.pk]), reverse("outcomes:case_studies")):
        assert funder.get(url).status_code == 404

    as_user(manager_user).post(reverse("outcomes:case_study_include", args=[included.pk]), {"include": "no"})
    assert "Included story" not in as_user(funder_user).get(reverse("outcomes:funder_report")).content.decode()


def test_only_the_table_moves_a_story(case, advisor_user, supervisor_user, manager_user):
    story = write(case, advisor_user)
    with pytest.raises(DomainError, match="cannot be moved to in the funder report"):
        case_studies.case_study_include(story=story, actor=manager_user, include=True)
    case_studies.case_study_review(story=story, actor=supervisor_user, approve=True)
    with pytest.raises(DomainError, match="approved now"):
        case_studies.case_study_review(story=story, actor=supervisor_user, approve=True)
    assert CASE_STUDY_TRANSITIONS[S.WITHDRAWN] == set()


def test_withdrawing_consent_withdraws_and_erases_every_story_and_refuses_new_ones(
    as_user, case, referral, advisor_user, supervisor_user, manager_user, funder_user
):
    story = write(case, advisor_user)
    case_studies.case_study_review(story=story, actor=supervisor_user, approve=True)
    case_studies.case_study_include(story=story, actor=manager_user, include=True)
    referral_services.consent_withdraw(referral=referral, actor=advisor_user)
    story.refresh_from_db()
    assert story.state == S.WITHDRAWN and story.withdrawn_at is not None and story.included_at is None
    assert {story.title, story.story, story.outcome_summary} == {REDACTED}
    assert STORY["title"] not in as_user(funder_user).get(reverse("outcomes:funder_report")).content.decode()
    with pytest.raises(DomainError, match="withdrew their consent"):
        write(case, advisor_user)
    response = as_user(advisor_user).get(reverse("outcomes:case_study_add", args=[case.pk]))
    assert response.status_code == 302


def test_no_story_is_written_of_a_patient_whose_details_retention_removed(case, referral, advisor_user):
    patient = referral.patient
    patient.redacted_at, patient.redaction_reason = timezone.now(), ErasureReason.RETENTION
    patient.save(update_fields=["redacted_at", "redaction_reason"])
    with pytest.raises(DomainError, match="retention period"):
        write(case, advisor_user)
    assert not CaseStudy.objects.exists()


def test_the_patient_withdrawing_their_agreement_alone_erases_the_story(as_user, case, advisor_user):
    story = write(case, advisor_user)
    url = reverse("outcomes:case_study_withdraw", args=[story.pk])
    client = as_user(advisor_user)
    assert client.post(url, {}).status_code == 400
    client.post(url, {"confirm": "on"})
    story.refresh_from_db()
    assert story.state == S.WITHDRAWN and story.story == REDACTED
    assert STORY["title"] not in client.get(reverse("outcomes:case_studies")).content.decode()


@pytest.mark.parametrize("stories", [1, 6])
def test_the_list_and_a_story_read_a_fixed_number_of_queries(
    as_user, case, advisor_user, supervisor_user, manager_user, django_assert_num_queries, stories
):
    made = [write(case, advisor_user, title=f"Story {n}") for n in range(stories)]
    for story in made:
        case_studies.case_study_review(story=story, actor=supervisor_user, approve=True)
    for user in (supervisor_user, manager_user):
        client = as_user(user)
        client.get(reverse("outcomes:case_studies"))  # warm the session
        with django_assert_num_queries(5):
            assert client.get(reverse("outcomes:case_studies")).status_code == 200
        with django_assert_num_queries(5):
            assert client.get(reverse("outcomes:case_study", args=[made[0].pk])).status_code == 200


def test_a_move_the_story_does_not_allow_now_goes_back_to_it_with_a_message_and_changes_nothing(
    as_user, case, advisor_user, supervisor_user
):
    story = write(case, advisor_user)
    detail = reverse("outcomes:case_study", args=[story.pk])
    author = as_user(advisor_user)
    for name in (
        "outcomes:case_study_revise",
        "outcomes:case_study_review",
    ):  # not returned; not the author's to review
        response = author.post(
            reverse(name, args=[story.pk]), {"decision": "approve", "comment": "", **STORY}, follow=True
        )
        assert response.redirect_chain == [(detail, 302)], name
        assert "You cannot do that with this story now." in response.content.decode()
    story.refresh_from_db()
    assert story.state == S.SUBMITTED and story.reviewed_by is None

"""A case study in a browser: the advisor writes it with the patient's agreement, the supervisor approves it, the
manager includes it, and the funder reads it in the funder report."""

import re

import pytest
from playwright.sync_api import expect

from casework import services as casework_services
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_story_goes_from_the_advisor_to_the_funder_report(
    new_page, referral, advisor_user, supervisor_user, manager_user, funder_user
):
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)

    advisor = new_page()
    sign_in(advisor, advisor_user)
    advisor.goto(f"/outcomes/cases/{case.pk}/")
    advisor.get_by_role("link", name="Write a case study").click()
    advisor.get_by_label("Title").fill("Kept her home")
    advisor.get_by_label("The story").fill("A carer in her forties was about to lose her home over rent arrears.")
    advisor.get_by_label("What changed for them").fill("Arrears cleared with a discretionary housing payment.")
    advisor.get_by_role("button", name="Submit for review").click()
    expect(
        advisor.get_by_role("link", name="A story can only be written when the patient has agreed to it")
    ).to_be_visible()
    expect(advisor.get_by_label("Title")).to_have_value("Kept her home")  # nothing typed is lost
    advisor.get_by_label("The patient agreed to an anonymised story").check()
    advisor.get_by_label("In writing").check()
    advisor.get_by_role("button", name="Submit for review").click()
    expect(advisor.get_by_text("Case study submitted for review.")).to_be_visible()
    expect(advisor.locator("#case-study-state")).to_have_text("Waiting for review")
    assert_accessible(advisor)

    supervisor = new_page()
    sign_in(supervisor, supervisor_user)
    supervisor.goto("/outcomes/case-studies/")
    supervisor.get_by_role("link", name="Kept her home").click()
    supervisor.get_by_role("link", name="Review it").click()
    supervisor.get_by_label("Approve it").check()
    supervisor.get_by_role("button", name="Save the review").click()
    expect(supervisor.locator("#case-study-state")).to_have_text("Approved")

    manager = new_page()
    sign_in(manager, manager_user)
    manager.get_by_role("link", name="Case studies").click()
    manager.get_by_role("link", name="Kept her home").click()
    manager.get_by_role("button", name="Include it in the funder report").click()
    expect(manager.get_by_text("Included in the funder report.")).to_be_visible()
    expect(manager.locator("#case-study-state")).to_have_text("In the funder report")
    assert_accessible(manager)

    funder = new_page()
    sign_in(funder, funder_user)
    funder.goto("/outcomes/funder-report/")
    stories = funder.get_by_role("region", name="Case studies")
    expect(stories).to_contain_text("Kept her home")
    expect(stories).to_contain_text("Arrears cleared with a discretionary housing payment.")
    expect(funder.get_by_text(re.compile(case.reference))).to_have_count(0)
    assert_accessible(funder)

"""A referrer and an advisor talk about a referral in a browser: the message, the inbox notice, the reply."""

import re

import pytest
from playwright.sync_api import expect

from casework import services as casework_services
from tests.e2e.conftest import assert_accessible, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_referrer_and_an_advisor_exchange_messages_on_a_referral(new_page, referral, referrer_user, advisor_user):
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)

    referrer = new_page()
    sign_in(referrer, referrer_user)
    referrer.goto(f"/referrals/{referral.pk}/")
    thread = referrer.get_by_role("region", name="Conversation with the advice service")
    expect(thread).to_contain_text("No messages yet.")
    thread.get_by_label("Your message").fill("Her PIP decision letter arrived today: dated 3 March.")
    thread.get_by_role("button", name="Send message").click()
    expect(referrer.get_by_text("Message sent.")).to_be_visible()
    expect(referrer.locator(".thread")).to_contain_text("dated 3 March")

    advisor = new_page()
    sign_in(advisor, advisor_user)
    inbox = advisor.get_by_role("link", name=re.compile(r"Inbox 1 unread"))
    expect(inbox).to_be_visible()
    inbox.click()
    advisor.get_by_role("link", name=f"New message on referral {referral.reference}").click()
    advisor.get_by_role("link", name="See the details").click()
    expect(advisor).to_have_url(re.compile(rf"/referrals/{referral.pk}/messages/"))
    expect(advisor.locator(".thread")).to_contain_text("dated 3 March")
    assert_accessible(advisor)
    advisor.get_by_label("Your message").fill("Thank you. Could you send us a copy?")
    advisor.get_by_role("button", name="Send message").click()
    expect(advisor.get_by_text("Message sent.")).to_be_visible()
    advisor.goto(f"/casework/cases/{case.pk}/")
    expect(advisor.get_by_role("region", name="Conversation with the referrer")).to_contain_text("Could you send")
    screenshot(advisor, "conversation-on-the-case")

    referrer.goto("/inbox/")
    expect(
        referrer.get_by_role("link", name=re.compile(f"New message on referral {referral.reference}"))
    ).to_be_visible()
    referrer.goto(f"/referrals/{referral.pk}/")
    expect(referrer.locator(".thread")).to_contain_text("Could you send us a copy?")
    assert_accessible(referrer)

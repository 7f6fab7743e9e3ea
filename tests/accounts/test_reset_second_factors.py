"""A lost device: a supervisor of the same advice organisation, or an admin, resets a user's second factors;
audited, and the user is told in the inbox and by email. Nobody else can."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from hjp.accounts.models import Role
from hjp.accounts.services import recovery_codes_generate, user_reset_second_factors
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from hjp.notifications.models import Message, MessageKind
from tests import factories
from tests.support.auth import Client, authenticator_for
from tests.support.pages import looks_missing
from tests.support.snapshots import assert_matches_snapshot, message_text

PEOPLE = reverse("accounts:people")


def reset_url(user):
    return reverse("accounts:reset_second_factors", args=[user.pk])


@pytest.fixture
def lost(advisor_user):
    """The advisor who lost their phone: an authenticator and recovery codes."""
    authenticator_for(advisor_user)
    recovery_codes_generate(user=advisor_user)
    return advisor_user


def signed_in_elsewhere(user) -> Client:
    """The user, signed in with both factors in a browser of their own."""
    browser = Client()
    browser.force_login(user)
    assert browser.get(reverse("casework:home")).status_code == 200
    return browser


@pytest.mark.django_db
def test_a_supervisor_resets_a_colleagues_lost_device_who_then_sets_up_again(
    client, supervisor_user, lost, django_capture_on_commit_callbacks
):
    advisor_session = signed_in_elsewhere(lost)
    supervisor_user.full_name = "Priya Shah"  # named in the notice, which the snapshot holds
    supervisor_user.save()
    client.force_login(supervisor_user)
    people = client.get(PEOPLE).content.decode()
    assert lost.full_name in people and reset_url(lost) in people
    page = client.get(reset_url(lost))
    assert page.status_code == 200 and lost.full_name in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reset_url(lost), {"reason": "Phone stolen; she rang me from the office line."})
    assert response["Location"] == PEOPLE
    assert not TOTPDevice.objects.filter(user=lost).exists() and not StaticDevice.objects.filter(user=lost).exists()
    entry = AuditEvent.objects.get(action=AuditEvent.Action.RESET)
    assert (entry.actor, entry.object_type, entry.object_id) == (supervisor_user, "accounts.user", str(lost.pk))
    assert "Phone stolen" in entry.summary and entry.path == reset_url(lost)

    notice = Message.objects.get(recipient=lost, kind=MessageKind.SECURITY_NOTICE)
    assert notice.status == Message.Status.DELIVERED
    assert_matches_snapshot(message_text(notice), "second_factors_reset")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [lost.email]
    email = mail.outbox[0]
    assert "Phone stolen" not in email.body and "sign-in security notice" in email.body
    assert f"{reverse('notifications:inbox')}" in email.body

    # The advisor's open session (perhaps on the stolen device) is signed out, not sent to set up a new factor:
    # a new factor takes the password again.
    response = advisor_session.get(reverse("casework:home"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in advisor_session.session
    assert "two-step sign-in was changed" in advisor_session.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_a_reset_needs_a_reason(client, supervisor_user, lost):
    client.force_login(supervisor_user)
    response = client.post(reset_url(lost), {"reason": "  "})
    assert "Say why their sign-in is reset" in response.content.decode()
    assert TOTPDevice.objects.filter(user=lost).exists()


@pytest.mark.django_db
def test_nobody_else_can_reset_anyone(client, lost, advice_org, health_org, partnership, supervisor_user):
    other_supervisor = factories.advisor(factories.AdviceOrganisationFactory(), supervisor=True)
    colleague = factories.advisor(advice_org)
    not_allowed = [
        other_supervisor,
        colleague,
        factories.referrer(health_org),
        factories.partnership_member(partnership, Role.MANAGER),
        factories.partnership_member(partnership, Role.FUNDER),
    ]
    for actor in not_allowed:
        client.logout()
        client.force_login(actor)
        for response in (client.get(reset_url(lost)), client.post(reset_url(lost), {"reason": "x"})):
            assert response.status_code == 404 and looks_missing(response), actor
        with pytest.raises(DomainError):
            user_reset_second_factors(user=lost, by=actor, reason="x")
    # A supervisor neither resets themself nor an admin who works in their service.
    admin_advisor = factories.advisor(advice_org)
    admin_advisor.is_staff = True
    admin_advisor.save()
    client.logout()
    client.force_login(supervisor_user)
    for user in (supervisor_user, admin_advisor):
        assert client.get(reset_url(user)).status_code == 404
    assert TOTPDevice.objects.filter(user=lost).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.RESET).exists()


@pytest.mark.django_db
def test_the_people_list_is_the_supervisors_own_service(client, supervisor_user, advice_org, health_org):
    colleague = factories.advisor(advice_org)
    authenticator_for(colleague)
    new_colleague = factories.advisor(advice_org)
    elsewhere = factories.advisor(factories.AdviceOrganisationFactory())
    referrer = factories.referrer(health_org)
    client.force_login(supervisor_user)
    html = client.get(PEOPLE).content.decode()
    assert colleague.full_name in html and new_colleague.full_name in html
    assert elsewhere.full_name not in html and referrer.full_name not in html
    assert f"<td>{supervisor_user.full_name}</td>" not in html
    assert reset_url(colleague) in html and reset_url(new_colleague) not in html  # nothing to reset yet
    assert 'href="/accounts/people/"' in client.get(reverse("casework:home")).content.decode()  # in the menu


@pytest.mark.django_db
@pytest.mark.parametrize("colleagues", [1, 12])
def test_the_people_list_takes_the_same_queries_for_few_and_many(
    client, supervisor_user, advice_org, colleagues, django_assert_num_queries
):
    for _ in range(colleagues):
        authenticator_for(factories.advisor(advice_org))
    client.force_login(supervisor_user)
    # the session, the user (with its inbox count and devices' ids), roles, the people with their memberships
    with django_assert_num_queries(5):
        assert client.get(PEOPLE).status_code == 200


@pytest.mark.django_db
def test_an_admin_resets_from_the_users_list_with_a_reason(client, lost, django_capture_on_commit_callbacks):
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    changelist = reverse("admin:accounts_user_changelist")
    ask = client.post(changelist, {"action": "reset_second_factors", ACTION_CHECKBOX_NAME: [lost.pk]})
    assert ask.status_code == 200 and "Why reset their sign-in?" in ask.content.decode()
    assert TOTPDevice.objects.filter(user=lost).exists()
    empty = client.post(changelist, {"action": "reset_second_factors", ACTION_CHECKBOX_NAME: [lost.pk], "reason": ""})
    assert "Say why their sign-in is reset" in empty.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            changelist,
            {
                "action": "reset_second_factors",
                ACTION_CHECKBOX_NAME: [lost.pk],
                "reason": "Lost phone, checked by call",
            },
            follow=True,
        )
    assert "two-step sign-in reset" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=lost).exists()
    assert AuditEvent.objects.get(action=AuditEvent.Action.RESET).actor == admin
    assert Message.objects.filter(recipient=lost, kind=MessageKind.SECURITY_NOTICE).count() == 1
    assert len(mail.outbox) == 1

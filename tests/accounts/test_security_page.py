"""Sign-in and security: a user's own devices, adding and removing them, new recovery codes; each change
asks for a second factor passed in the last few minutes."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hjp.accounts.recovery_codes import stored_form
from hjp.accounts.services import recovery_codes_generate
from hjp.audit.models import AuditEvent
from tests import factories
from tests.support.auth import authenticator_for, totp_code

SECURITY = reverse("accounts:security")
VERIFY = reverse("accounts:verify")


def remove_url(device):
    return reverse("accounts:device_remove", args=["totp", device.pk])


@pytest.mark.django_db
def test_the_page_lists_the_users_devices_by_kind_and_is_in_the_menu(client, advisor_user):
    device = authenticator_for(advisor_user)
    TOTPDevice.objects.create(user=advisor_user, name="Not finished", confirmed=False)
    TOTPDevice.objects.create(user=factories.advisor(), name="Someone else's phone", confirmed=True)
    recovery_codes_generate(user=advisor_user)
    client.force_login(advisor_user)
    home = client.get(reverse("casework:home")).content.decode()
    assert f'href="{SECURITY}">Sign-in and security</a>' in home
    html = client.get(SECURITY).content.decode()
    assert "Authenticator apps" in html and device.name in html
    assert "Not finished" not in html and "Someone else" not in html
    assert "You have 10 unused recovery codes" in html
    assert remove_url(device) in html


@pytest.mark.django_db
@pytest.mark.parametrize("devices", [1, 6])
def test_the_page_takes_the_same_queries_for_few_and_many_devices(
    client, advisor_user, devices, django_assert_num_queries
):
    authenticator_for(advisor_user)
    for number in range(devices - 1):
        TOTPDevice.objects.create(user=advisor_user, name=f"Phone {number}", confirmed=True)
    recovery_codes_generate(user=advisor_user)
    client.force_login(advisor_user)
    # the session, the user (with its inbox count and devices' ids), roles, each kind's devices (passkeys, apps,
    # recovery codes), the codes left
    with django_assert_num_queries(7):
        assert client.get(SECURITY).status_code == 200


@pytest.mark.django_db
def test_changing_ones_devices_asks_for_a_recent_second_factor(client, advisor_user, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    device = authenticator_for(advisor_user)
    spare = TOTPDevice.objects.create(user=advisor_user, name="Old phone", confirmed=True)
    client.force_login(advisor_user)
    time_machine.shift(timedelta(minutes=11))
    for url in (remove_url(spare), reverse("accounts:totp_add")):
        response = client.get(url)
        assert response["Location"] == f"{VERIFY}?next={url.replace('/', '%2F')}", url
    assert client.post(reverse("accounts:recovery_codes_regenerate"))["Location"].startswith(VERIFY)
    assert not StaticDevice.objects.filter(user=advisor_user).exists()
    page = client.get(f"{VERIFY}?next={remove_url(spare)}")
    assert "Confirm it is you" in page.content.decode()
    response = client.post(
        VERIFY,
        {"totp-kind": "totp", "totp-device": device.pk, "totp-code": totp_code(device), "next": remove_url(spare)},
    )
    assert response["Location"] == remove_url(spare)
    assert client.post(remove_url(spare))["Location"] == SECURITY
    assert not TOTPDevice.objects.filter(pk=spare.pk).exists()
    removed = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert removed.actor == advisor_user and removed.object_id == str(spare.pk)


@pytest.mark.django_db
def test_who_must_use_a_second_factor_cannot_remove_their_last_authenticator(client, advisor_user):
    device = authenticator_for(advisor_user)
    client.force_login(advisor_user)
    response = client.post(remove_url(device))
    assert response.status_code == 200
    assert "This is your last authenticator" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


@pytest.mark.django_db
def test_a_referrer_who_need_not_may_turn_two_step_sign_in_off(client):
    user = factories.referrer(factories.OrganisationFactory(requires_two_factor_for_referrers=False))
    device = authenticator_for(user)
    recovery_codes_generate(user=user)
    client.force_login(user)
    assert client.post(remove_url(device))["Location"] == SECURITY
    # The recovery codes go with the last authenticator: nothing is left to pass.
    assert not TOTPDevice.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user).exists()
    client.logout()
    client.force_login(user, second_factor=False)
    assert client.get(reverse("referrals:home")).status_code == 200


@pytest.mark.django_db
def test_nobody_removes_anothers_device(client, advisor_user):
    other = authenticator_for(factories.advisor())
    client.force_login(advisor_user)
    assert client.get(remove_url(other)).status_code == 404
    assert client.post(remove_url(other)).status_code == 404
    assert client.get(reverse("accounts:device_remove", args=["nonsense", other.pk])).status_code == 404
    assert TOTPDevice.objects.filter(pk=other.pk).exists()


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old_ones(client, advisor_user):
    old = recovery_codes_generate(user=advisor_user)
    client.force_login(advisor_user)
    response = client.post(reverse("accounts:recovery_codes_regenerate"))
    page = client.get(response["Location"]).content.decode()
    new = re.findall(r'<li class="col"><code class="fs-5">([a-z2-7]+)</code>', page)
    assert len(new) == 10 and not set(new) & set(old)
    stored = set(StaticToken.objects.filter(device__user=advisor_user).values_list("token", flat=True))
    assert stored == {stored_form(code) for code in new}
    assert 'href="/accounts/security/"' in page


@pytest.mark.django_db
def test_a_second_authenticator_can_be_added(client, advisor_user):
    authenticator_for(advisor_user)
    recovery_codes_generate(user=advisor_user)
    client.force_login(advisor_user)
    client.get(reverse("accounts:totp_add"))
    new = TOTPDevice.objects.get(user=advisor_user, confirmed=False)
    response = client.post(
        f"{reverse('accounts:totp_add')}?next={SECURITY}", {"code": totp_code(new), "name": "Tablet"}
    )
    assert response["Location"] == SECURITY  # they have recovery codes already: none are made
    assert TOTPDevice.objects.filter(user=advisor_user, confirmed=True).count() == 2

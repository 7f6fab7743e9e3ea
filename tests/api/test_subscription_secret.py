"""A subscription's signing secret is encrypted at rest with EVIDENCE_ENCRYPTION_KEYS (hjp.core.encrypted): the
database column holds a Fernet token, never the secret; notifications are still signed with the secret the
client was given; a secret kept in clear before is encrypted by the migration's helper; and a new key put first
re-encrypts the column (manage.py rotate_encrypted_columns), the old key no longer needed."""

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection

from api.models import Subscription
from hjp.core.encrypted import reencrypt_column
from tests.api.test_subscriptions import accept, subscribe

pytestmark = pytest.mark.django_db
NEW_KEY = Fernet.generate_key().decode()


def stored_secret(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM api_subscription WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def listener():
    from tests.support.webhook_listener import WebhookListener

    running = WebhookListener().start()
    yield running
    running.stop()


def test_the_column_holds_no_secret_and_notifications_are_still_signed_with_it(
    client, settings, health_client, sent_referral, listener, django_capture_on_commit_callbacks
):
    created, secret = subscribe(client, health_client, listener.url)
    stored = stored_secret(int(created["id"]))
    assert secret not in stored and stored.startswith("gAAAAA")
    assert Fernet(settings.EVIDENCE_ENCRYPTION_KEYS[0]).decrypt(stored.encode()).decode() == secret
    assert Subscription.objects.get().secret == secret

    accept(sent_referral, django_capture_on_commit_callbacks)
    received = listener.received()
    assert len(received) == 2 and all(item.signed_with(secret) for item in received)


def test_a_secret_kept_in_clear_before_is_encrypted_by_the_migration(client, health_client, listener):
    created, secret = subscribe(client, health_client, listener.url)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE api_subscription SET secret = %s WHERE id = %s", [secret, int(created["id"])])
    assert Subscription.objects.get().secret == secret  # read as it was, until encrypted

    assert reencrypt_column(Subscription, "secret") == 1
    stored = stored_secret(int(created["id"]))
    assert stored.startswith("gAAAAA") and secret not in stored
    assert Subscription.objects.get().secret == secret


def test_a_new_key_put_first_re_encrypts_the_secrets(client, settings, health_client, listener, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    created, secret = subscribe(client, health_client, listener.url)
    old_key = settings.EVIDENCE_ENCRYPTION_KEYS[0]
    settings.EVIDENCE_ENCRYPTION_KEYS = [NEW_KEY, old_key]
    assert Subscription.objects.get().secret == secret  # the old key still decrypts

    out = io.StringIO()
    call_command("rotate_encrypted_columns", stdout=out)
    assert "api.Subscription.secret: 1 value(s) written under the first key\n" in out.getvalue()
    assert "casework.AdviceProvider.fhir_signing_secret: 0 value(s) written under the first key\n" in out.getvalue()

    stored = stored_secret(int(created["id"]))
    assert Fernet(NEW_KEY).decrypt(stored.encode()).decode() == secret
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(stored.encode())
    settings.EVIDENCE_ENCRYPTION_KEYS = [NEW_KEY]
    assert Subscription.objects.get().secret == secret

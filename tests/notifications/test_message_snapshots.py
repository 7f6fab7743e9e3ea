"""The wording of the email that tells a user a message waits in hjp, compared with a reviewed snapshot."""

import pytest

from hjp.notifications import services
from hjp.notifications.models import MessageKind
from tests import factories
from tests.support.snapshots import assert_matches_snapshot


@pytest.mark.django_db
def test_the_email(settings, mailoutbox):
    settings.SITE_URL = "https://hjp.example.test"
    message = services.message_queue(
        recipient=factories.UserFactory(),
        kind=MessageKind.OUTCOME_REPORT,
        key="snapshot",
        subject="Outcome of referral RSNAP005",
        body="Private.",
    )
    services.message_deliver(message_id=message.pk)
    [email] = mailoutbox
    assert_matches_snapshot(f"Subject: {email.subject}\n\n{email.body}", "email")

"""Password reset through a real Celery worker, real Redis and real SMTP (the test's mail server on loopback)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from hjp.accounts.models import PasswordResetRequest
from tests import factories
from tests.support.celery_worker import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_emails_the_link_to_a_known_address_and_nothing_to_an_unknown_one(celery_worker):
    user = factories.UserFactory()
    client = Client()
    for email in (user.email, "nobody@example.test"):
        response = client.post(reverse("password_reset"), {"email": email})
        assert response["Location"] == reverse("password_reset_done")
    wait_for(
        lambda: not PasswordResetRequest.objects.filter(handled_at__isnull=True).exists(),
        timeout=20,
        what="both requests handled by the worker",
    )
    celery_worker.wait_idle()
    [email] = celery_worker.emails()
    assert email.to == [user.email] and email.subject == "Reset your hjp password"
    path = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", email.text).group(1)
    assert "Choose a new password" in client.get(path, follow=True).content.decode()

"""A burst of simultaneous password-reset requests cannot pass the hourly limit before any of them is written."""

import threading

import pytest
from django.db import connection

from hjp.accounts.models import PasswordResetRequest
from hjp.accounts.services import password_reset_request

pytestmark = pytest.mark.django_db(transaction=True)


def test_ten_simultaneous_requests_for_one_address_write_three(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    start = threading.Barrier(10)
    errors = []

    def ask(n):
        try:
            start.wait(timeout=10)
            password_reset_request(email="nobody@example.test", ip_address=f"198.51.100.{n + 1}")
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert PasswordResetRequest.objects.filter(email="nobody@example.test").count() == 3

"""Every audit entry says where its work came from, from the context its entry point set: the client address
and path of a web request, the Celery task that ran it, or nothing (a management command, a shell)."""

import threading

import pytest
from celery import shared_task
from django.urls import reverse

from casework.services import referral_accept
from hjp.accounts.models import User
from hjp.audit.context import audit_context, current_audit_context
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from tests.support.forms import once

pytestmark = pytest.mark.django_db

TASK_NAME = "tests.audit.record_from_a_task"


@shared_task(name=TASK_NAME)
def record_from_a_task(user_id: int) -> int:
    """A task that writes an audit entry, as a task wrapping a service would."""
    return audit_record(
        actor=User.objects.get(pk=user_id),
        action=AuditEvent.Action.UPDATE,
        object_type="accounts.user",
        object_id=str(user_id),
        summary="from a task",
    ).pk


def test_a_page_view_records_the_client_address_and_the_path_without_its_query(as_user, referral):
    client = as_user(referral.referrer)
    detail = reverse("referrals:detail", args=[referral.pk])
    assert client.get(detail, {"q": "Smithson"}, REMOTE_ADDR="192.0.2.17").status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=str(referral.pk))
    assert (event.actor, event.ip_address, event.path) == (referral.referrer, "192.0.2.17", detail)


def test_a_change_made_through_a_page_records_the_address_on_every_entry_it_writes(as_user, referral, advisor_user):
    """The services a view calls (and the services they call in turn) are not handed the request."""
    url = reverse("casework:accept", args=[referral.pk])
    assert as_user(advisor_user).post(url, once(), REMOTE_ADDR="198.51.100.4").status_code == 302
    written = AuditEvent.objects.filter(actor=advisor_user).exclude(action=AuditEvent.Action.VIEW)
    assert {"referrals.referral", "casework.case"} <= set(written.values_list("object_type", flat=True))
    assert set(written.values_list("ip_address", "path")) == {("198.51.100.4", url)}


def test_a_service_called_inside_an_audit_context_records_that_context(referral, advisor_user):
    with audit_context(user=advisor_user, ip_address="203.0.113.9", path="/api/referrals/accept"):
        referral_accept(referral=referral, actor=advisor_user)
    written = AuditEvent.objects.filter(actor=advisor_user)
    assert written.count() >= 3  # the referral's move, its case status, the case
    assert set(written.values_list("ip_address", "path")) == {("203.0.113.9", "/api/referrals/accept")}


def test_a_service_called_outside_every_entry_point_records_no_address_and_no_path(referral, advisor_user):
    assert current_audit_context() is None
    referral_accept(referral=referral, actor=advisor_user)
    written = AuditEvent.objects.filter(actor=advisor_user)
    assert written.exists()
    assert set(written.values_list("ip_address", "path")) == {(None, "")}


def test_a_long_path_is_cut_to_the_column_not_refused(advisor_user):
    with audit_context(path="/" + "a" * 600):
        event = audit_record(actor=advisor_user, action=AuditEvent.Action.LIST, object_type="x.y")
    event.refresh_from_db()
    assert event.path == ("/" + "a" * 600)[:500]


def test_a_celery_task_records_its_name_and_no_address(advisor_user):
    event_id = record_from_a_task.apply(args=[advisor_user.pk]).get()
    event = AuditEvent.objects.get(pk=event_id)
    assert (event.ip_address, event.path, event.summary) == (None, f"celery:{TASK_NAME}", "from a task")
    assert current_audit_context() is None


def test_a_task_run_eagerly_inside_a_request_names_itself_and_the_request_context_comes_back(advisor_user):
    with audit_context(user=advisor_user, ip_address="192.0.2.1", path="/cases/"):
        event_id = record_from_a_task.delay(advisor_user.pk).get()
        after = audit_record(actor=advisor_user, action=AuditEvent.Action.LIST, object_type="casework.case")
    from_task = AuditEvent.objects.get(pk=event_id)
    assert (from_task.ip_address, from_task.path) == (None, f"celery:{TASK_NAME}")
    assert (after.ip_address, after.path) == ("192.0.2.1", "/cases/")


def test_the_context_of_one_request_does_not_leak_into_the_next_or_past_it(as_user, referral, advisor_user):
    client = as_user(referral.referrer)
    detail = reverse("referrals:detail", args=[referral.pk])
    client.get(detail, REMOTE_ADDR="192.0.2.50")
    assert current_audit_context() is None
    client.get(reverse("referrals:list"), REMOTE_ADDR="192.0.2.51")
    assert current_audit_context() is None
    view = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=str(referral.pk))
    listing = AuditEvent.objects.get(action=AuditEvent.Action.LIST, actor=referral.referrer)
    assert (view.ip_address, view.path) == ("192.0.2.50", detail)
    assert (listing.ip_address, listing.path) == ("192.0.2.51", reverse("referrals:list"))
    after = audit_record(actor=advisor_user, action=AuditEvent.Action.LIST, object_type="casework.case")
    assert (after.ip_address, after.path) == (None, "")


def test_a_context_set_in_one_thread_is_not_seen_by_another():
    seen = {}
    entered = threading.Event()
    done = threading.Event()

    def inside_a_request():
        with audit_context(ip_address="192.0.2.60", path="/one/"):
            entered.set()
            done.wait(timeout=5)

    def elsewhere():
        entered.wait(timeout=5)
        seen["other"] = current_audit_context()
        done.set()

    threads = [threading.Thread(target=inside_a_request), threading.Thread(target=elsewhere)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert entered.is_set() and done.is_set()
    assert seen == {"other": None}


def test_audit_context_restores_the_outer_context_even_when_the_work_fails():
    with audit_context(ip_address="192.0.2.70", path="/outer/"):
        with pytest.raises(RuntimeError), audit_context(path="/inner/"):
            raise RuntimeError("the work failed")
        assert current_audit_context().path == "/outer/"
    assert current_audit_context() is None

"""No patient record is deletable through the Django admin: removal happens only through the retention and
withdrawal services. Walks the admin's registry, so a model registered later cannot slip through."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.db.models.deletion import ProtectedError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from casework.models import Case
from hjp.audit.models import AuditEvent
from hjp.core.admin import PatientRecordAdminMixin
from hjp.notifications.models import Delivery, Message
from hjp.notifications.services import message_queue
from referrals.models import Patient, Referral
from tests import factories

# Hold patient data without a foreign key to a patient (a message's body, an audit entry's subject).
ROOTS = {Patient, AuditEvent, Message}


def patient_record_models() -> set[type[models.Model]]:
    """The patient, every model that holds patient data of its own, and every model that points at one of them
    (a consent, a case, a note, an outcome ...), found from the foreign keys."""
    records = set(ROOTS)
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model in records:
                continue
            if any(field.is_relation and field.related_model in records for field in model._meta.concrete_fields):
                records.add(model)
                grew = True
    return records


def test_the_walk_finds_the_records_the_issue_names():
    labels = {model._meta.label for model in patient_record_models()}
    assert {
        "referrals.Patient",
        "referrals.Referral",
        "referrals.Consent",
        "referrals.ReferralStatusChange",
        "casework.Case",
        "casework.CaseNote",
        "casework.Appointment",
        "casework.Deadline",
        "casework.EvidenceRequest",
        "casework.CaseIssue",
        "outcomes.FinancialOutcome",
        "outcomes.NonFinancialOutcome",
        "outcomes.DecisionOutcome",
        "audit.AuditEvent",
        "notifications.Message",
        "notifications.Delivery",
    } <= labels


@pytest.fixture
def superuser(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


def test_every_admin_of_patient_data_refuses_delete(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    records = patient_record_models()
    checked = set()
    for model, model_admin in admin.site._registry.items():
        inlines = [inline(model, admin.site) for inline in model_admin.inlines]
        for inline in inlines:
            if inline.model in records:
                assert isinstance(inline, PatientRecordAdminMixin), inline
                assert not inline.has_delete_permission(request), inline
        if model not in records:
            continue
        checked.add(model)
        assert isinstance(model_admin, PatientRecordAdminMixin), model
        assert not model_admin.has_delete_permission(request), model
        assert "delete_selected" not in model_admin.get_actions(request), model
    assert {Referral, Case, AuditEvent, Message, Delivery} <= checked


@pytest.fixture
def records(referral, advisor_user, superuser):
    case = factories.CaseFactory(referral=referral, advisor=advisor_user)
    message = message_queue(recipient=referral.referrer, kind="status_notice", key="k", subject="s", body="b")
    event = AuditEvent.objects.create(actor=superuser, action=AuditEvent.Action.VIEW, at=timezone.now())
    return [referral, case, message, message.deliveries.first(), event]


def _admin_url(obj, view):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_{view}", args=[obj.pk])


def test_a_superuser_finds_no_delete_link_delete_page_or_delete_action(as_user, superuser, records):
    client = as_user(superuser)
    for obj in records:
        change = client.get(_admin_url(obj, "change"))
        assert change.status_code == 200, obj
        assert _admin_url(obj, "delete") not in change.text and "deletelink" not in change.text, obj
        assert client.get(_admin_url(obj, "delete")).status_code == 403, obj
        assert client.post(_admin_url(obj, "delete"), {"post": "yes"}).status_code == 403, obj
        changelist = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist")
        listed = client.get(changelist)
        assert listed.status_code == 200 and 'value="delete_selected"' not in listed.text, obj
        bulk = client.post(
            changelist, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}, follow=True
        )
        assert bulk.status_code == 200
        assert type(obj).objects.filter(pk=obj.pk).exists(), obj


def test_deleting_a_user_or_organisation_cannot_take_patient_records_with_it(records, referral):
    with pytest.raises(ProtectedError):
        referral.referrer.delete()
    with pytest.raises(ProtectedError):
        referral.referring_organisation.delete()
    with pytest.raises(ProtectedError):
        referral.advice_organisation.delete()
    assert all(type(obj).objects.filter(pk=obj.pk).exists() for obj in records)


def test_no_foreign_key_from_a_patient_record_cascades_from_outside_the_records():
    """A user, organisation, partnership or reference list deleted never deletes a patient record: its foreign
    keys from the records PROTECT them (or, for an optional team, only clear it)."""
    records = patient_record_models()
    cascading = [
        f"{model._meta.label}.{field.name}"
        for model in records
        for field in model._meta.concrete_fields
        if field.is_relation
        and field.related_model not in records
        and field.remote_field.on_delete not in (models.PROTECT, models.SET_NULL)
    ]
    assert cascading == []

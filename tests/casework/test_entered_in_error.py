"""Notes and appointments are never deleted: one written or booked in error is marked so, struck through on the
case page with who marked it and why, by its author or a supervisor."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import selectors, services
from casework.models import Appointment, CaseNote
from casework.services import StaleCaseError
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from tests import factories


@pytest.fixture
def note(case_in_progress, advisor_user):
    return services.case_note_add(
        case=case_in_progress,
        actor=advisor_user,
        kind="call",
        text="Talked about the wrong patient's PIP.",
        occurred_at=timezone.now(),
    )


@pytest.fixture
def appointment(case_in_progress, advisor_user):
    return services.appointment_book(
        case=case_in_progress, actor=advisor_user, kind="phone", starts_at=timezone.now() + timedelta(days=2)
    )


def test_the_author_marks_a_note_entered_in_error_and_it_is_kept(note, advisor_user):
    services.case_note_mark_entered_in_error(note=note, actor=advisor_user, reason="Wrong case.")
    note.refresh_from_db()
    assert note.text == "Talked about the wrong patient's PIP."
    assert (note.entered_in_error_by, note.entered_in_error_reason) == (advisor_user, "Wrong case.")
    assert AuditEvent.objects.filter(object_id=str(note.pk), summary="entered in error").exists()
    with pytest.raises(DomainError, match="already marked"):
        services.case_note_mark_entered_in_error(note=note, actor=advisor_user, reason="Again.")


def test_another_advisor_may_not_but_a_supervisor_may(note, case_in_progress, supervisor_user):
    colleague = factories.advisor(case_in_progress.referral.advice_organisation)
    with pytest.raises(DomainError, match="only whoever wrote it or a supervisor"):
        services.case_note_mark_entered_in_error(note=note, actor=colleague, reason="Not mine.")
    services.case_note_mark_entered_in_error(note=note, actor=supervisor_user, reason="Wrong case.")
    assert CaseNote.objects.get(pk=note.pk).entered_in_error_by == supervisor_user


def test_a_note_of_a_closed_case_can_be_marked_by_its_author(note, case_in_progress, advisor_user):
    services.case_close(
        case=case_in_progress, actor=advisor_user, version=case_in_progress.version, closure_reason="work_completed"
    )
    services.case_note_mark_entered_in_error(note=note, actor=advisor_user, reason="Wrong case.")
    assert CaseNote.objects.get(pk=note.pk).is_entered_in_error


def test_an_appointment_booked_in_error_is_no_longer_the_next_one_and_cannot_be_edited(
    appointment, case_in_progress, advisor_user
):
    assert appointment.booked_by == advisor_user
    case_in_progress.refresh_from_db()
    with pytest.raises(StaleCaseError):
        services.appointment_mark_entered_in_error(
            appointment=appointment, actor=advisor_user, version=case_in_progress.version - 1, reason="x"
        )
    services.appointment_mark_entered_in_error(
        appointment=appointment, actor=advisor_user, version=case_in_progress.version, reason="Double booked."
    )
    case = selectors.case_detail(user=advisor_user, pk=case_in_progress.pk)
    assert selectors.next_appointment(case) is None
    assert selectors.advisor_home(user=advisor_user).appointments_week == []
    case_in_progress.refresh_from_db()
    with pytest.raises(DomainError, match="booked in error"):
        services.appointment_update(
            appointment=appointment,
            actor=advisor_user,
            version=case_in_progress.version,
            kind="phone",
            starts_at=appointment.starts_at,
            duration_minutes=30,
            place="",
            attendance="booked",
            note="",
        )


def test_an_appointment_booked_before_who_booked_it_was_kept_is_its_advisors(case_in_progress, advisor_user):
    old = factories.AppointmentFactory(case=case_in_progress, booked_by=None)
    colleague = factories.advisor(case_in_progress.referral.advice_organisation)
    with pytest.raises(DomainError):
        services.appointment_mark_entered_in_error(
            appointment=old, actor=colleague, version=case_in_progress.version, reason="x"
        )
    services.appointment_mark_entered_in_error(
        appointment=old, actor=advisor_user, version=case_in_progress.version, reason="x"
    )
    assert Appointment.objects.get(pk=old.pk).is_entered_in_error


def test_the_case_page_strikes_them_through_with_who_and_why(
    as_user, note, appointment, case_in_progress, advisor_user, supervisor_user
):
    supervisor_user.full_name = "Sam Supervisor"
    supervisor_user.save()
    services.case_note_mark_entered_in_error(note=note, actor=supervisor_user, reason="Wrong case.")
    case_in_progress.refresh_from_db()
    services.appointment_mark_entered_in_error(
        appointment=appointment, actor=supervisor_user, version=case_in_progress.version, reason="Double booked."
    )
    html = as_user(advisor_user).get(reverse("casework:case", args=[case_in_progress.pk])).content.decode()
    assert "<del><strong>Phone call</strong>" in html
    assert "Talked about the wrong patient&#x27;s PIP." in html
    assert "<strong>Entered in error</strong>: marked by Sam Supervisor on" in html
    assert "Why: Wrong case." in html
    assert "<strong>Booked in error</strong>: marked by Sam Supervisor" in html
    assert "Why: Double booked." in html
    assert reverse("casework:appointment_edit", args=[case_in_progress.pk, appointment.pk]) not in html
    assert reverse("casework:note_entered_in_error", args=[case_in_progress.pk, note.pk]) not in html


def test_the_case_page_offers_the_link_only_to_who_may(as_user, note, case_in_progress, advisor_user):
    url = reverse("casework:note_entered_in_error", args=[case_in_progress.pk, note.pk])
    case_url = reverse("casework:case", args=[case_in_progress.pk])
    assert url in as_user(advisor_user).get(case_url).content.decode()
    colleague = factories.advisor(case_in_progress.referral.advice_organisation)
    client = as_user(colleague)
    assert url not in client.get(case_url).content.decode()
    assert client.get(url).status_code == 404


def test_marking_through_the_pages(as_user, note, appointment, case_in_progress, advisor_user):
    client = as_user(advisor_user)
    url = reverse("casework:note_entered_in_error", args=[case_in_progress.pk, note.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Say why it was entered in error." in response.content.decode()
    assert client.post(url, {"reason": "Wrong case."}).status_code == 302
    assert CaseNote.objects.get(pk=note.pk).entered_in_error_reason == "Wrong case."

    case_in_progress.refresh_from_db()
    url = reverse("casework:appointment_entered_in_error", args=[case_in_progress.pk, appointment.pk])
    stale = client.post(url, {"reason": "Double booked.", "version": case_in_progress.version - 1})
    assert stale.status_code == 400
    assert "Someone else changed this case" in stale.content.decode()
    assert "Double booked." in stale.content.decode()
    response = client.post(url, {"reason": "Double booked.", "version": case_in_progress.version})
    assert response.status_code == 302
    assert Appointment.objects.get(pk=appointment.pk).is_entered_in_error

"""Advice clinic pages: the upcoming sessions (both sides), publishing and cancelling a session (the advice
side), a session's slots, and moving or cancelling a booking (either side of its referral). Every page checks
the user's right to the object (404 for missing and forbidden alike) and audits what shows patient data."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from hjp.accounts.roles import ADVICE_WORKERS, REFERRERS, role_required
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record, audit_records
from hjp.core.formpage import submit_form
from hjp.core.forms import ReasonForm, error_summary
from referrals import selectors as referral_selectors
from referrals.clinics import permissions, selectors, services
from referrals.clinics.forms import BookingAddForm, BookingChangeForm, ClinicSessionForm

Action = AuditEvent.Action


def _form_page(
    request, form, perform, *, success: str, next_url: str | Callable, audit_obj, audit_summary: str = "", **page
):
    """A clinic form page: a valid POST calls one service (`perform`, through `hjp.core.formpage.submit_form`)
    and goes to `next_url` (or `next_url(result)`) with `success`; otherwise the form again, with what was typed and what refused it,
    and the view of `audit_obj` audited. `page` is the template's: title, submit_label, danger, back_url or
    back_referral."""
    submission = submit_form(request, form, perform)
    if submission.saved:
        messages.success(request, success)
        return redirect(next_url(submission.result) if callable(next_url) else next_url)
    if audit_obj is not None:
        audit_record(actor=request.user, action=Action.VIEW, obj=audit_obj, summary=audit_summary)
    return render(
        request,
        "referrals/clinics/form_page.html",
        {"form": form, "errors": error_summary(form), **page},
        status=400 if request.method == "POST" else 200,
    )


@role_required(REFERRERS, ADVICE_WORKERS, message="No clinics here.")
def clinic_list(request):
    """Upcoming sessions with their free slots. No patient is named here: the slots are counted."""
    user = request.user
    sessions = list(selectors.upcoming_sessions(user=user)[: selectors.UPCOMING_LIMIT])
    for session in sessions:
        session.free_count = len(selectors.free_slots(session))
    audit_record(actor=user, action=Action.LIST, object_type="referrals.clinicsession", summary="clinic sessions")
    return render(
        request,
        "referrals/clinics/clinic_list.html",
        {"sessions": sessions, "can_publish": permissions.can_publish(user)},
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="Only the advice service publishes clinics.")
def clinic_add(request):
    user = request.user
    form = ClinicSessionForm(request.POST or None, user=user)
    return _form_page(
        request,
        form,
        lambda data: services.clinic_session_publish(actor=user, **data),
        success="The session is published: referrers can book its slots now.",
        next_url=lambda session: reverse("referrals:clinic_detail", args=[session.pk]),
        audit_obj=None,
        title="Publish an advice clinic session",
        submit_label="Publish session",
        back_url="referrals:clinic_list",
    )


def clinic_detail(request, pk):
    user = request.user
    session = selectors.get_session_for_user(user, pk)
    bookings = selectors.session_bookings(user=user, session=session)
    # The session, and each booking whose patient the page names: that patient's "who has looked" lists the page.
    audit_records(actor=user, action=Action.VIEW, objs=[session, *(b for b in bookings if b.visible)])
    return render(
        request,
        "referrals/clinics/clinic_detail.html",
        {
            "session": session,
            "slots": selectors.slots_of(session, bookings),
            "advice_side": permissions.is_advice_side(user, session),
            "can_cancel": permissions.can_cancel_session(user, session),
        },
    )


@require_http_methods(["GET", "POST"])
def clinic_cancel(request, pk):
    user = request.user
    session = selectors.get_session_for_user(user, pk)
    if not permissions.can_cancel_session(user, session):
        raise Http404("No such clinic session.")
    form = ReasonForm(
        request.POST or None,
        label="Why is the session cancelled? The referrers of its bookings read this.",
        required_message="Enter why the session is cancelled",
    )
    return _form_page(
        request,
        form,
        lambda data: services.clinic_session_cancel(session=session, actor=user, reason=data["reason"]),
        success="The session is cancelled; the referrers of its bookings are told.",
        next_url=reverse("referrals:clinic_detail", args=[session.pk]),
        audit_obj=session,
        title=f"Cancel the session of {session.starts_at:%-d %b %H:%M}",
        submit_label="Cancel the session",
        danger=True,
        back_url="referrals:clinic_list",
    )


def _slot_choice(data) -> dict:
    """The slot and interpreter a booking form chose, as the booking services take them."""
    return {
        "session_id": data["session_id"],
        "slot": data["slot"],
        "interpreter": data.get("interpreter") or "",
        "interpreter_language": data.get("interpreter_language") or "",
    }


def _booking(request, pk):
    booking = selectors.get_booking_for_user(request.user, pk)
    if not permissions.can_change_booking(request.user, booking):
        raise Http404("No such booking.")
    return booking


@require_http_methods(["GET", "POST"])
def booking_change(request, pk):
    """Move the booking to another free slot of its partnership, or change the interpreter it asks for."""
    user = request.user
    booking = _booking(request, pk)
    sessions = selectors.upcoming_sessions(user=user, partnership_ids=[booking.referral.partnership_id])
    form = BookingChangeForm(request.POST or None, sessions=sessions, booking=booking)
    return _form_page(
        request,
        form,
        lambda data: services.clinic_booking_change(booking=booking, actor=user, **_slot_choice(data)),
        success="The booking is changed; the other side is told.",
        next_url=reverse("referrals:detail", args=[booking.referral_id]),
        audit_obj=booking,
        title=f"Change the clinic booking of referral {booking.referral.reference}",
        submit_label="Save the change",
        back_referral=booking.referral_id,
    )


@require_http_methods(["GET", "POST"])
def booking_add(request, pk):
    """Book a slot for a referral already sent (`pk` is the referral's), by either side of it."""
    user = request.user
    referral = referral_selectors.referral_detail(user=user, pk=pk)
    if not permissions.can_book_for(user, referral):
        raise Http404("No such referral.")
    if selectors.referral_bookings(referral_id=referral.pk):
        messages.info(request, "This referral already has a clinic appointment: move it instead.")
        return redirect("referrals:detail", pk=referral.pk)
    sessions = selectors.upcoming_sessions(user=user, partnership_ids=[referral.partnership_id])
    form = BookingAddForm(request.POST or None, sessions=sessions)
    return _form_page(
        request,
        form,
        lambda data: services.clinic_booking_add(referral=referral, actor=user, **_slot_choice(data)),
        success="The clinic slot is booked; the other side is told.",
        next_url=reverse("referrals:detail", args=[referral.pk]),
        audit_obj=referral,
        audit_summary="clinic booking form",
        title=f"Book an advice clinic slot for referral {referral.reference}",
        submit_label="Book the slot",
        back_referral=referral.pk,
    )


@require_http_methods(["GET", "POST"])
def booking_cancel(request, pk):
    user = request.user
    booking = _booking(request, pk)
    form = ReasonForm(
        request.POST or None,
        label="Why is the appointment cancelled? The other side reads this.",
        required_message="Enter why the appointment is cancelled",
    )
    return _form_page(
        request,
        form,
        lambda data: services.clinic_booking_cancel(booking=booking, actor=user, reason=data["reason"]),
        success="The appointment is cancelled and its slot is free; the other side is told.",
        next_url=reverse("referrals:detail", args=[booking.referral_id]),
        audit_obj=booking,
        title=f"Cancel the clinic appointment of referral {booking.referral.reference}",
        submit_label="Cancel the appointment",
        danger=True,
        back_referral=booking.referral_id,
    )

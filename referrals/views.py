from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from hjp.accounts.roles import ADVICE_WORKERS, REFERRERS, role_required, roles_for
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.downloads import private_file_response
from hjp.core.formpage import submit_form
from hjp.core.forms import ReasonForm, error_summary
from hjp.core.pagination import keyset_page
from hjp.core.search import page_query, search_filters, search_redirect
from hjp.core.submissions import AlreadySubmitted
from hjp.notifications import services as notification_services
from hjp.notifications.models import MessageKind
from referrals import deprivation, permissions, selectors, services
from referrals.clinics import permissions as clinic_permissions
from referrals.clinics import selectors as clinic_selectors
from referrals.clinics.forms import ClinicBookingForm
from referrals.clinics.services import SlotTakenError
from referrals.forms import (
    ConsentForm,
    ConsentScopeChangeForm,
    ConsentWithdrawalForm,
    PatientForm,
    ReferralFilterForm,
    ReferralForm,
    ReferralMessageForm,
)
from referrals.models import Referral, ReferralStatus

PAGE_SIZE = 20


@role_required(REFERRERS, message="Only referrers have this page.")
def referrer_home(request):
    recent = list(selectors.referral_rows(user=request.user).prefetch_related(None)[:5])  # no categories shown
    audit_record(
        actor=request.user, action=AuditEvent.Action.LIST, object_type="referrals.referral", summary="referrer home"
    )
    return render(
        request,
        "referrals/home.html",
        {"recent": recent, "counts": selectors.referral_status_counts(user=request.user), "today": timezone.now()},
    )


@require_http_methods(["GET", "POST"])
@role_required(REFERRERS, ADVICE_WORKERS, message="No referrals here.")
def referral_list(request):
    if request.method == "POST":  # a search: its text goes to the session, never into the URL
        return search_redirect(request)
    user = request.user
    filters = ReferralFilterForm(search_filters(request))
    status = text = ""
    if filters.is_valid():
        status, text = filters.cleaned_data["status"], filters.cleaned_data["q"]
    query = page_query(request)
    page = keyset_page(
        request, selectors.referral_rows(user=user, status=status, text=text), per_page=PAGE_SIZE, query=query
    )
    audit_record(
        actor=user,
        action=AuditEvent.Action.LIST,
        object_type="referrals.referral",
        summary=f"referral list page {page.number}",
    )
    return render(
        request,
        "referrals/referral_list.html",
        {"page": page, "filters": filters, "now": timezone.now()},
    )


def _referral_forms(request, *, referral=None, submitting=False):
    user = request.user
    partnerships = selectors.partnerships_for_referrer(user)
    rows = list(partnerships)  # read once: the form shows and checks these rows
    data = request.POST if request.method == "POST" else None
    initial_referral = {}
    if referral is None and len(rows) == 1:
        initial_referral["partnership"] = rows[0]
    return (
        PatientForm(data, prefix="patient", instance=referral.patient if referral else None, submitting=submitting),
        ConsentForm(
            data,
            prefix="consent",
            instance=getattr(referral, "consent", None) if referral else None,
            submitting=submitting,
            initial={} if referral else {"given_at": timezone.localtime().replace(second=0, microsecond=0)},
        ),
        ReferralForm(
            data,
            prefix="referral",
            instance=referral,
            submitting=submitting,
            partnerships=partnerships,
            categories=selectors.problem_categories(),
            initial=initial_referral,
        ),
    )


def _booking_form(request, *, without_slot: bool = False) -> ClinicBookingForm:
    """The referral form's clinic part: the free slots of the sessions the referrer sees (two queries)."""
    data = None
    if request.method == "POST":
        data = request.POST.copy()
        if without_slot:
            data["booking-slot"] = ""
    sessions = clinic_selectors.upcoming_sessions(user=request.user)[: clinic_selectors.UPCOMING_LIMIT]
    return ClinicBookingForm(data, prefix="booking", sessions=sessions)


def _resent_message(created) -> str:
    if created is not None and created.status == ReferralStatus.DRAFT:
        # e.g. "Save as draft" and then "Submit" before the page changed: say plainly it was not sent.
        return (
            f"This form was already saved as draft {created.reference}: it has not been sent. "
            "Check it and submit it from here."
        )
    return AlreadySubmitted.MESSAGE


@require_http_methods(["GET", "POST"])
@role_required(REFERRERS, message="Only referrers have this page.")
def referral_form(request, pk=None):
    user = request.user
    referral = None
    if pk is not None:
        referral = selectors.referral_detail(user=user, pk=pk)
        if not permissions.can_edit_draft(user, referral):
            messages.info(request, "Only drafts can be edited; this referral has been sent.")
            return redirect("referrals:detail", pk=referral.pk)
    submitting = request.POST.get("action") == "submit"
    patient_form, consent_form, referral_form_ = _referral_forms(request, referral=referral, submitting=submitting)
    booking_form = _booking_form(request)
    duplicates = []
    if all(f.is_valid() for f in (patient_form, consent_form, booking_form)):
        submission = submit_form(
            request,
            referral_form_,
            lambda data: services.referral_save(
                actor=user,
                patient_data=patient_form.cleaned_data,
                consent_data=consent_form.cleaned_data,
                referral_data=data,
                referral=referral,
                version=referral_form_.version,
                submit=submitting,
                submission_token=referral_form_.submission_token,
                booking=booking_form.booking() if submitting else None,
            ),
            refusal_fields={services.DuplicateReferralError: "duplicate_reason"},
            resent_message=_resent_message,
        )
        if submission.saved:
            saved = submission.result
            if submitting:
                messages.success(request, f"Referral {saved.reference} sent to {saved.advice_organisation}.")
            else:
                messages.success(request, f"Draft {saved.reference} saved. It has not been sent yet.")
                if booking_form.booking():
                    messages.info(request, "A draft holds no clinic slot: choose one again when you send it.")
        if submission.done:
            if submission.result is None:
                return redirect("referrals:list")
            return redirect("referrals:detail", pk=submission.result.pk)
        if isinstance(submission.refusal, services.DuplicateReferralError):
            duplicates = submission.refusal.duplicates
        if isinstance(submission.refusal, SlotTakenError):
            # Said beside the slots, which are read again: the taken one is no longer offered.
            referral_form_.errors.pop("__all__", None)
            booking_form = _booking_form(request, without_slot=True)
            booking_form.add_error("slot", submission.refusal.message)
    forms_ = (consent_form, patient_form, referral_form_, booking_form)  # the page's order, so the summary's
    if referral is not None:
        audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=referral, summary="draft edit form")
    return render(
        request,
        "referrals/referral_form.html",
        {
            "referral": referral,
            "patient_form": patient_form,
            "consent_form": consent_form,
            "referral_form": referral_form_,
            "booking_form": booking_form,
            "errors": error_summary(*forms_),
            # Only duplicates this referrer may open: of others they learn nothing (the advice service checks).
            "duplicates": duplicates,
            "show_duplicate_reason": bool(duplicates) or bool(referral_form_["duplicate_reason"].value()),
            "draft_retention_days": settings.DRAFT_RETENTION_DAYS,
            "deprivation_note": deprivation.deprivation_note(),
        },
        status=400 if request.method == "POST" else 200,
    )


def referral_detail(request, pk):
    user = request.user
    referral = selectors.referral_detail(user=user, pk=pk, read_handovers=False)
    lists = selectors.referral_page_lists(user=user, referral=referral)
    audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=referral)
    targets = services.allowed_targets(referral=referral, user=user)
    timeline = list(referral.status_changes.all())
    # The step that put the referral in its state: its reason (why declined, where redirected) comes first.
    current_step = next((step for step in reversed(timeline) if step.to_status == referral.status), None)
    advice_side = permissions.is_advice_side(user, referral)
    advice_org_ids = roles_for(user).advice_org_ids
    consent = getattr(referral, "consent", None)
    duplicates = selectors.possible_duplicates(user=user, referrals=[referral]) if advice_side else {}
    clinic_bookings = lists["clinic_bookings"]
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "consent": consent,
            "consent_changes": list(consent.changes.all()) if consent is not None else [],
            "timeline": selectors.referral_timeline(referral, user=user),
            "handovers": [
                (handover, services.handover_targets(handover=handover, user=user))
                for handover in referral.handover_list
                if handover.from_organisation_id in advice_org_ids or handover.to_organisation_id in advice_org_ids
            ],
            "current_step": current_step,
            "possible_duplicates": duplicates.get(referral.pk, []),
            "clinic_bookings": clinic_bookings,
            "can_book_clinic": not clinic_bookings and clinic_permissions.can_book_for(user, referral),
            "can_edit": permissions.can_edit_draft(user, referral),
            "can_cancel": ReferralStatus.CANCELLED in targets,
            "can_mark_error": ReferralStatus.ENTERED_IN_ERROR in targets,
            "can_withdraw_consent": permissions.can_withdraw_consent(user, referral),
            "can_change_consent": permissions.can_change_consent_scope(user, referral),
            "show_outcome_link": permissions.is_referrer_side(user, referral)
            and referral.status in (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS, ReferralStatus.CLOSED),
            "show_next_steps": referral.status == ReferralStatus.SUBMITTED
            and permissions.is_referrer_side(user, referral),
        }
        | thread_context(user=user, referral=referral, latest=lists.get("thread")),
    )


def _reason_action(request, pk, *, to_status, label, required_message, title, success):
    user = request.user
    referral = selectors.referral_detail(user=user, pk=pk)
    if not permissions.is_referrer_side(user, referral):
        raise Http404("No such page.")
    if to_status not in services.allowed_targets(referral=referral, user=user):
        messages.error(
            request, f"A referral that is {referral.get_status_display().lower()} cannot be changed that way."
        )
        return redirect("referrals:detail", pk=referral.pk)
    form = ReasonForm(request.POST or None, label=label, required_message=required_message)
    submission = submit_form(
        request,
        form,
        lambda data: services.referral_transition(
            referral=referral, to_status=to_status, actor=user, reason=data["reason"]
        ),
    )
    if submission.saved:
        messages.success(request, success)
        return redirect("referrals:detail", pk=referral.pk)
    audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=referral)
    return render(
        request,
        "referrals/referral_action.html",
        {"referral": referral, "form": form, "title": title, "errors": error_summary(form), "action_url": request.path},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def referral_cancel(request, pk):
    return _reason_action(
        request,
        pk,
        to_status=ReferralStatus.CANCELLED,
        label="Why are you cancelling this referral?",
        required_message="Enter why you are cancelling this referral",
        title="Cancel referral",
        success="Referral cancelled.",
    )


@require_http_methods(["GET", "POST"])
def referral_entered_in_error(request, pk):
    return _reason_action(
        request,
        pk,
        to_status=ReferralStatus.ENTERED_IN_ERROR,
        label="What was the mistake?",
        required_message="Enter what the mistake was",
        title="Mark as sent by mistake",
        success="Referral marked as entered in error.",
    )


@require_http_methods(["GET", "POST"])
def consent_withdraw(request, pk):
    user = request.user
    referral = selectors.referral_detail(user=user, pk=pk)
    if not permissions.can_withdraw_consent(user, referral):
        consent = getattr(referral, "consent", None)
        if consent is not None and consent.is_withdrawn:
            messages.error(request, "Consent for this referral was already withdrawn.")
        elif referral.status == ReferralStatus.DRAFT:
            messages.error(request, "This referral has not been sent: discard the draft instead.")
        else:
            messages.error(
                request,
                f"Consent cannot be withdrawn from a referral that is "
                f"{referral.get_status_display().lower()}: no work or feedback is left to stop.",
            )
        return redirect("referrals:detail", pk=referral.pk)
    form = ConsentWithdrawalForm(request.POST or None)
    submission = submit_form(request, form, lambda data: services.consent_withdraw(referral=referral, actor=user))
    if submission.saved:
        messages.success(
            request, "Consent withdrawal recorded. Work has stopped and the patient's details are removed."
        )
        return redirect("referrals:detail", pk=referral.pk)
    audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=referral)
    return render(
        request,
        "referrals/referral_action.html",
        {
            "referral": referral,
            "form": form,
            "title": "Record withdrawal of consent",
            "errors": error_summary(form),
            "action_url": reverse("referrals:withdraw_consent", args=[referral.pk]),
            "danger": True,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def consent_scope_change(request, pk):
    """Scope 2 or 3 given later or withdrawn on its own, on the patient's word, by the referrer's side or the
    advice side; back to the case page when it came from there (`?from=case`)."""
    user = request.user
    referral = selectors.referral_detail(user=user, pk=pk)
    if not permissions.can_change_consent_scope(user, referral):
        raise Http404("Consent for this referral cannot be changed.")
    form = ConsentScopeChangeForm(request.POST or None, consent=referral.consent)
    submission = submit_form(
        request,
        form,
        lambda data: services.consent_scope_change(
            referral=referral,
            actor=user,
            scope=data["scope"],
            given=data["given"],
            given_by=data["given_by"],
            representative_name=data["representative_name"],
            method=data["method"],
            said_at=data["said_at"],
            note=data["note"],
        ),
    )
    if submission.saved:
        messages.success(request, "The change of consent is recorded.")
        case = getattr(referral, "case", None)
        if request.GET.get("from") == "case" and case is not None:
            return redirect("casework:case", pk=case.pk)
        return redirect("referrals:detail", pk=referral.pk)
    audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=referral)
    return render(
        request,
        "referrals/referral_action.html",
        {
            "referral": referral,
            "form": form,
            "title": "Record a change of consent",
            "intro": "Scope 2 (medical evidence) and scope 3 (outcomes reported back) can be given later or "
            "withdrawn on their own; the referral and its case go on. To withdraw all consent, use "
            "'Record consent withdrawal'.",
            "errors": error_summary(form),
            "action_url": request.get_full_path(),
        },
        status=400 if request.method == "POST" else 200,
    )


def thread_context(*, user, referral, latest: list | None = None) -> dict:
    """What the referral's and the case's pages need to show the conversation: its latest messages (one query,
    none for a user with no part in it, or none at all where the page read them with its other short lists:
    `latest`, newest first) and the form to write."""
    side = permissions.thread_side(user, referral)
    if side is None:
        return {"thread_side": None}
    if latest is not None:
        thread_list, earlier = selectors.thread_preview_of(latest)
    else:
        thread_list, earlier = selectors.thread_preview(user=user, referral=referral)
    return {
        "thread_side": side,
        "thread_list": thread_list,
        "thread_earlier": earlier,
        "thread_closed": permissions.thread_closed_reason(referral),
        "thread_form": ReferralMessageForm(),
    }


THREAD_PAGE_SIZE = 20


@require_http_methods(["GET", "POST"])
@role_required(REFERRERS, ADVICE_WORKERS, message="No referrals here.")
def thread(request, pk):
    """The whole conversation on a referral, a page at a time (newest page first, each oldest first), and the
    form to write on it. Opening it marks the user's inbox notices of its messages read."""
    user = request.user
    referral = permissions.get_thread_referral_for_user(
        user,
        pk,
        queryset=Referral.objects.select_related(
            "patient", "consent", "referring_organisation", "advice_organisation", "case"
        ),
    )
    form = ReferralMessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        submission = submit_form(
            request,
            form,
            lambda data: services.referral_message_post(
                referral=referral,
                actor=user,
                text=data["text"],
                upload=data["attachment"],
                submission_token=form.submission_token,
            ),
            refusal_fields={services.MessageFileRefused: "attachment"},
        )
        if submission.saved:
            messages.success(request, "Message sent.")
        if submission.done:
            return redirect(f"{reverse('referrals:thread', args=[referral.pk])}#message-{submission.result.pk}")
    page = keyset_page(request, selectors.thread_messages(user=user, referral=referral), per_page=THREAD_PAGE_SIZE)
    notification_services.messages_mark_read_about(
        user=user, referral_id=referral.pk, kind=MessageKind.REFERRAL_MESSAGE
    )
    audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=referral, summary=f"conversation page {page.number}")
    case = getattr(referral, "case", None)
    return render(
        request,
        "referrals/thread.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "page": page,
            "thread_list": page.object_list[::-1],
            "thread_closed": permissions.thread_closed_reason(referral),
            "form": form,
            "errors": error_summary(form),
            "back_to_case": case.pk if case is not None and permissions.is_advice_side(user, referral) else None,
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required(REFERRERS, ADVICE_WORKERS, message="No referrals here.")
def thread_attachment(request, pk, message_pk):
    """A document sent in the conversation, decrypted, to those who take part in it, never cached; audited."""
    user = request.user
    referral = permissions.get_thread_referral_for_user(user, pk)
    message = selectors.get_thread_message_for_user(user=user, referral=referral, pk=message_pk)
    if not message.attachment:
        raise Http404("No document.")
    return private_file_response(
        request,
        file=message.attachment,
        content_type=message.attachment_type,
        filename=f"message-{referral.reference}-{message.pk}",
        audit_obj=message,
        audit_summary="message document",
        unreadable_template="referrals/attachment_unreadable.html",
        unreadable_context={"referral": referral},
    )

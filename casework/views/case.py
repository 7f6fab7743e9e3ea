"""The case record, and the pages that change the case itself."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from casework import forms, permissions, selectors, services
from casework.models import CaseState
from casework.views.pages import audit_page, case_form_page, case_values, get_case, posted, versioned_form
from hjp.accounts.roles import ADVICE_WORKERS, role_required
from hjp.audit.models import AuditEvent
from hjp.core.pagination import BEFORE, INVALID_CURSOR_MESSAGE
from referrals.forms import ConsentWithdrawalForm
from referrals.permissions import can_change_consent_scope
from referrals.views import thread_context

Action = AuditEvent.Action


@role_required(ADVICE_WORKERS, message="No casework here.")
def case_detail(request, pk):
    user = request.user
    case = selectors.case_detail(user=user, pk=pk)
    audit_page(request, Action.VIEW, obj=case)
    referral = case.referral
    consent = referral.consent
    is_supervisor = permissions.is_supervisor_of(user, referral.advice_organisation_id)
    record = selectors.case_record(case)
    timeline = selectors.case_timeline(case, before=request.GET.get(BEFORE, ""))
    if timeline.invalid_cursor:
        messages.warning(request, INVALID_CURSOR_MESSAGE)
    return render(
        request,
        "casework/case_detail.html",
        {
            "case": case,
            "referral": referral,
            "patient": referral.patient,
            "consent": consent,
            "record": record,
            "consent_changes": record.consent_changes,
            "timeline": [
                entry | {"can_mark_in_error": permissions.can_mark_entered_in_error(user, entry["item"], case)}
                for entry in timeline.entries
            ],
            "timeline_page": timeline,
            "next_appointment": record.next_appointment,
            "clinic_bookings": record.clinic_bookings,
            "is_supervisor": is_supervisor,
            "can_request_evidence": case.is_open and consent.allows_evidence_requests,
            "consent_withdrawn_case_open": consent.is_withdrawn and case.is_open,
            "can_change_consent": can_change_consent_scope(user, referral),
            "consent_change_from": "?from=case",
            "note_form": forms.NoteForm(awaiting_contact=case.state == CaseState.AWAITING_CONTACT),
        }
        | thread_context(user=user, referral=referral),
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def note_add(request, pk):
    case = get_case(request, pk)
    first = request.GET.get("first") == "1"
    form = forms.NoteForm(
        posted(request),
        awaiting_contact=case.state == CaseState.AWAITING_CONTACT,
        initial={"first_contact": first, "kind": "call"},
    )
    return case_form_page(
        request,
        case,
        form,
        title="Record first contact" if first else "Add a note",
        submit_label="Save note",
        perform=lambda d: services.case_note_add(
            case=case,
            actor=request.user,
            kind=d["kind"],
            text=d["text"],
            occurred_at=d["occurred_at"],
            first_contact=d.get("first_contact", False),
            submission_token=form.submission_token,
        ),
        success="Note saved.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def case_edit(request, pk):
    case = get_case(request, pk)
    form = versioned_form(
        request,
        case,
        forms.CaseEditForm,
        initial={"summary": case.summary, "case_status": case.referral.case_status},
        case_statuses=services.business_statuses_for(case),
    )
    return case_form_page(
        request,
        case,
        form,
        title="Edit case",
        submit_label="Save",
        current=case_values,
        perform=lambda d: services.case_update(
            case=case, actor=request.user, version=d["version"], summary=d["summary"], case_status=d["case_status"]
        ),
        success="Case saved.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def case_reallocate(request, pk):
    case = get_case(request, pk)
    if not permissions.is_supervisor_of(request.user, case.referral.advice_organisation_id):
        raise Http404("Only supervisors reallocate cases.")
    form = versioned_form(
        request, case, forms.ReallocateForm, workers=permissions.case_workers(case.referral.advice_organisation_id)
    )
    return case_form_page(
        request,
        case,
        form,
        title="Reallocate case",
        submit_label="Reallocate",
        current=case_values,
        perform=lambda d: services.case_reallocate(
            case=case, actor=request.user, version=d["version"], advisor=d["advisor"], note=d["note"]
        ),
        success="Case reallocated.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def case_reopen(request, pk):
    case = get_case(request, pk)
    if not permissions.is_supervisor_of(request.user, case.referral.advice_organisation_id):
        raise Http404("Only supervisors reopen cases.")
    form = versioned_form(
        request, case, forms.VersionedReasonForm, label="Why the case is reopened (the referrer sees this)"
    )
    return case_form_page(
        request,
        case,
        form,
        title="Reopen case",
        submit_label="Reopen",
        current=case_values,
        perform=lambda d: services.case_reopen(case=case, actor=request.user, version=d["version"], reason=d["reason"]),
        success="Case reopened.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def case_withdraw_consent(request, pk):
    case = get_case(request, pk)
    form = ConsentWithdrawalForm(posted(request))
    return case_form_page(
        request,
        case,
        form,
        title="Record consent withdrawal",
        submit_label="Record withdrawal and stop work",
        danger=True,
        intro="Withdrawal stops all work: the referral is cancelled, the case closes as 'consent withdrawn', "
        "and the patient's details and the case notes are removed.",
        perform=lambda d: services.case_stop_for_consent_withdrawal(case=case, actor=request.user),
        success="Consent withdrawal recorded. Work has stopped and the patient's details are removed.",
    )

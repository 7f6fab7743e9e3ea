"""Medical evidence: the referrer's requests and answers, and the permission-checked document download."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from casework import forms, permissions, selectors, services
from casework.models import EvidenceRequest
from casework.views.pages import PAGE_SIZE, audit_page
from hjp.accounts.roles import REFERRERS, role_required, roles_for
from hjp.audit.models import AuditEvent
from hjp.core.downloads import private_file_response
from hjp.core.formpage import submit_form
from hjp.core.forms import error_summary
from hjp.core.pagination import keyset_page

Action = AuditEvent.Action


@role_required(REFERRERS, message="No evidence requests here.")
def evidence_list(request):
    user = request.user
    page = keyset_page(request, selectors.evidence_requests_for_referrer(user=user), per_page=PAGE_SIZE)
    audit_page(
        request, Action.LIST, object_type="casework.evidencerequest", summary=f"evidence requests page {page.number}"
    )
    return render(request, "casework/evidence_list.html", {"page": page, "today": timezone.localdate()})


@require_http_methods(["GET", "POST"])
def evidence_detail(request, pk):
    """The request; the referrer it is addressed to answers (text and/or a document) or declines here."""
    user = request.user
    evidence = permissions.get_evidence_request_for_user(
        user, pk, queryset=EvidenceRequest.objects.select_related("case__referral__patient", "answered_by")
    )
    can_answer = permissions.can_answer_evidence(user, evidence)
    answer_form = forms.EvidenceAnswerForm(prefix="answer")
    decline_form = forms.EvidenceDeclineForm(prefix="decline")
    if request.method == "POST":
        if not can_answer:
            if evidence.answered_by_id == user.pk:  # the reply sent twice: the first one went
                messages.info(request, "Your reply was already sent to the advisor.")
                return redirect("casework:evidence_list" if roles_for(user).is_referrer else "home")
            messages.error(request, "This request can no longer be answered.")
            return redirect("casework:evidence_detail", pk=evidence.pk)
        declining = request.POST.get("action") == "decline"
        form = (
            forms.EvidenceDeclineForm(request.POST, prefix="decline")
            if declining
            else forms.EvidenceAnswerForm(request.POST, request.FILES, prefix="answer")
        )
        if declining:
            submission = submit_form(
                request,
                form,
                lambda data: services.evidence_request_decline(
                    evidence=evidence, actor=user, reason=data["reason"], submission_token=form.submission_token
                ),
            )
        else:
            submission = submit_form(
                request,
                form,
                lambda data: services.evidence_request_answer(
                    evidence=evidence,
                    actor=user,
                    text=data["answer_text"],
                    upload=data["answer_file"],
                    submission_token=form.submission_token,
                ),
                refusal_fields={services.EvidenceFileRefused: "answer_file"},
            )
        if submission.saved:
            messages.success(request, "Thank you: your reply has been sent to the advisor.")
        if submission.done:
            return redirect("casework:evidence_list" if roles_for(user).is_referrer else "home")
        if declining:
            decline_form = form
        else:
            answer_form = form
    audit_page(request, Action.VIEW, obj=evidence)
    return render(
        request,
        "casework/evidence_detail.html",
        {
            "evidence": evidence,
            "case": evidence.case,
            "patient": evidence.case.referral.patient,
            "can_answer": can_answer,
            "is_advice_side": not permissions.is_evidence_addressee(user, evidence),
            "answer_form": answer_form,
            "decline_form": decline_form,
            "errors": error_summary(answer_form, decline_form),
        },
        status=400 if request.method == "POST" else 200,
    )


def evidence_file(request, pk):
    """The uploaded document, decrypted, to the referrer who sent it or the case's advice service, never
    cached. A document no configured key opens is logged for the service and explained to the user."""
    evidence = permissions.get_evidence_request_for_user(request.user, pk)
    if not evidence.answer_file:
        raise Http404("No document.")
    return private_file_response(
        request,
        file=evidence.answer_file,
        content_type=evidence.answer_file_type,
        filename=f"evidence-{evidence.case.reference}-{evidence.pk}",
        audit_obj=evidence,
        audit_summary="evidence document",
        unreadable_template="casework/evidence_file_unreadable.html",
        unreadable_context={"evidence": evidence},
    )

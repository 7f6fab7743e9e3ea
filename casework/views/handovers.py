"""A referral handed over to a partner: its page, the partner's answer and outcome (or, for a partner outside
hjp, the outcome it reports, recorded by the service that handed it over), and the single-use download link."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from casework import forms, permissions
from casework.views.pages import audit_page, form_page, posted
from hjp.accounts.roles import ADVICE_WORKERS, role_required
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from referrals import services as referral_services
from referrals.models import Handover

Action = AuditEvent.Action
H = Handover.State


@role_required(ADVICE_WORKERS, message="No casework here.")
def handover_detail(request, pk):
    user = request.user
    handover = permissions.get_handover_for_user(user, pk)
    audit_page(request, Action.VIEW, obj=handover)
    return render(
        request,
        "casework/handover_detail.html",
        {
            "handover": handover,
            "referral": handover.referral,
            "patient": handover.referral.patient,
            "targets": referral_services.handover_targets(handover=handover, user=user),
            "can_send_link": not handover.is_inside
            and H.ACCEPTED in referral_services.handover_targets(handover=handover, user=user),
            "State": H,
        },
    )


def _not_now(request, handover: Handover, to_state: str):
    """Back to the handover's page, saying why, when the user cannot make this move now (else None)."""
    if to_state in referral_services.handover_targets(handover=handover, user=request.user):
        return None
    messages.info(request, f"That cannot be done now: the handover is {handover.get_state_display().lower()}.")
    return redirect("casework:handover", pk=handover.pk)


def _decision_page(request, pk, *, accept: bool):
    user = request.user
    handover = permissions.get_handover_for_user(user, pk)
    if done := _not_now(request, handover, H.ACCEPTED if accept else H.DECLINED):
        return done
    form = forms.HandoverDecisionForm(posted(request), note_required=not accept)
    page = reverse("casework:handover", args=[handover.pk])
    outside = "" if handover.is_inside else f"Record the answer {handover.provider_name} gave you. "
    return form_page(
        request,
        form=form,
        title="Accept the handover" if accept else "Decline the handover",
        submit_label="Accept" if accept else "Decline",
        perform=lambda d: referral_services.handover_decide(
            handover=handover, actor=user, accept=accept, note=d["note"], submission_token=form.submission_token
        ),
        success="Answer recorded: the service that handed it over and the referrer are told.",
        next_url=page,
        back_url=page,
        audit_obj=handover,
        heading_obj=handover.referral,
        intro=outside + "The service that handed it over and the referrer read your answer and note.",
        danger=not accept,
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def handover_accept(request, pk):
    return _decision_page(request, pk, accept=True)


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def handover_decline(request, pk):
    return _decision_page(request, pk, accept=False)


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def handover_close(request, pk):
    user = request.user
    handover = permissions.get_handover_for_user(user, pk)
    if done := _not_now(request, handover, H.CLOSED):
        return done
    form = forms.HandoverCloseForm(posted(request))
    page = reverse("casework:handover", args=[handover.pk])
    return form_page(
        request,
        form=form,
        title="Record the outcome",
        submit_label="Close with this outcome",
        perform=lambda d: referral_services.handover_close(
            handover=handover,
            actor=user,
            outcome=d["outcome"],
            note=d["note"],
            submission_token=form.submission_token,
        ),
        success="Outcome recorded: the service that handed it over is told, and the referrer where the patient "
        "agreed to outcomes being reported back.",
        next_url=page,
        back_url=page,
        audit_obj=handover,
        heading_obj=handover.referral,
        intro="" if handover.is_inside else f"Record the outcome {handover.provider_name} reported to you.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def handover_link(request, pk):
    """A new download link for a partner outside hjp, shown once; any earlier one stops working."""
    user = request.user
    handover = permissions.get_handover_for_user(user, pk)
    context = {"handover": handover, "referral": handover.referral}
    if request.method == "POST":
        try:
            token = referral_services.handover_link_issue(handover=handover, actor=user)
        except DomainError as error:
            context["refusal"] = error.message
            return render(request, "casework/handover_link.html", context, status=400)
        handover.refresh_from_db()
        context["link"] = request.build_absolute_uri(reverse("casework:handover_download", args=[token]))
        context["expires_at"] = handover.link_expires_at
    else:
        audit_page(request, Action.VIEW, obj=handover)
    return render(request, "casework/handover_link.html", context)


@login_not_required
@never_cache
@require_http_methods(["GET"])
def handover_download(request, token):
    """The partner's page: names nothing about the patient until the one download (a POST)."""
    handover = referral_services.handover_for_token(token)
    if handover is None:
        raise Http404("No such page.")
    refusal = referral_services.link_refusal(handover)
    return render(
        request,
        "casework/handover_download.html",
        {"refusal": refusal, "token": token},
        status=410 if refusal else 200,
    )


@login_not_required
@never_cache
@require_POST
def handover_download_file(request, token):
    try:
        handover = referral_services.handover_link_open(token=token)
    except referral_services.LinkRefused as refusal:
        return render(request, "casework/handover_download.html", {"refusal": refusal.message}, status=410)
    referral = handover.referral
    text = render_to_string(
        "casework/handover_summary.txt",
        {"handover": handover, "referral": referral, "patient": referral.patient, "consent": referral.consent},
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="referral-{referral.reference}.txt"'
    return response

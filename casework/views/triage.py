"""The triage queue and its three actions: accept, decline, redirect."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from casework import forms, permissions, selectors, services
from casework.views.pages import PAGE_SIZE, audit_page, form_page, posted
from hjp.accounts.roles import ADVICE_WORKERS, role_required
from hjp.audit.models import AuditEvent
from hjp.core.pagination import keyset_page
from hjp.core.planning import joins_as_written
from referrals.models import ReferralStatus
from referrals.selectors import possible_duplicates

Action = AuditEvent.Action


@role_required(ADVICE_WORKERS, message="No casework here.")
def triage(request):
    user = request.user
    today = timezone.localdate()  # one date for the queue's rank and its streams
    queue = selectors.triage_queue(user=user, today=today)
    # The page's rows are found by their keys (the streams' subquery), then joined to their five relations by
    # theirs: planned with the joins as written, half the planning (hjp.core.planning).
    with joins_as_written(queue.db):
        page = keyset_page(request, queue, per_page=PAGE_SIZE, streams=selectors.triage_streams(today))
    duplicates = possible_duplicates(user=user, referrals=page.object_list)
    for referral in page.object_list:
        referral.possible_duplicates = duplicates.get(referral.pk, [])
    audit_page(request, Action.LIST, object_type="referrals.referral", summary=f"triage queue page {page.number}")
    return render(
        request,
        "casework/triage.html",
        {
            "page": page,
            "counts": selectors.triage_counts(user=user),
            "handovers": selectors.handovers_waiting(user=user),
        },
    )


def _triage_referral(request, pk):
    referral = permissions.get_triage_referral_for_user(request.user, pk)
    if referral.status != ReferralStatus.SUBMITTED:
        messages.info(
            request,
            f"Referral {referral.reference} has already been triaged: it is {referral.get_status_display().lower()}.",
        )
        return referral, redirect("referrals:detail", pk=referral.pk)
    return referral, None


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def triage_accept(request, pk):
    user = request.user
    referral, done = _triage_referral(request, pk)
    if done:
        return done
    org_id = referral.advice_organisation_id
    can_assign = permissions.is_supervisor_of(user, org_id)
    form = forms.AcceptForm(
        posted(request), workers=permissions.case_workers(org_id), can_assign=can_assign, initial={"advisor": user.pk}
    )
    return form_page(
        request,
        form=form,
        title="Accept referral",
        submit_label="Accept and open a case",
        perform=lambda d: services.referral_accept(
            referral=referral, actor=user, advisor=d.get("advisor"), submission_token=form.submission_token
        ),
        success=f"Referral {referral.reference} accepted: a case is open.",
        next_url=lambda case: reverse("casework:case", args=[case.pk]),
        back_url=reverse("casework:triage"),
        audit_obj=referral,
        heading_obj=referral,
        intro="The referrer is told the referral is accepted. Record the first contact with the patient on the case."
        + (" The referral's known deadline becomes a deadline on the case." if referral.known_deadline else ""),
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def triage_decline(request, pk):
    referral, done = _triage_referral(request, pk)
    if done:
        return done
    form = forms.DeclineForm(posted(request))
    return form_page(
        request,
        form=form,
        title="Decline referral",
        submit_label="Decline",
        perform=lambda d: services.referral_decline(
            referral=referral,
            actor=request.user,
            reason=d["reason"],
            explanation=d["explanation"],
            submission_token=form.submission_token,
        ),
        success=f"Referral {referral.reference} declined. The referrer can read why.",
        next_url=reverse("casework:triage"),
        back_url=reverse("casework:triage"),
        audit_obj=referral,
        heading_obj=referral,
        danger=True,
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def triage_redirect(request, pk):
    referral, done = _triage_referral(request, pk)
    if done:
        return done
    providers = selectors.advice_providers(user=request.user, active_only=True).filter(
        advice_organisation_id=referral.advice_organisation_id
    )
    form = forms.RedirectForm(posted(request), providers=providers)
    return form_page(
        request,
        form=form,
        title="Redirect referral",
        submit_label="Redirect",
        perform=lambda d: services.referral_redirect(
            referral=referral,
            actor=request.user,
            provider=d["provider"],
            note=d["note"],
            share=form.share_consent(),
            submission_token=form.submission_token,
        ),
        success=f"Referral {referral.reference} passed on. The referrer can read where to.",
        next_url=reverse("casework:triage"),
        back_url=reverse("casework:triage"),
        audit_obj=referral,
        heading_obj=referral,
        intro="" if providers.exists() else "Your service's provider directory is empty: a supervisor adds providers.",
    )

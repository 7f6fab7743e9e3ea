"""The referrer's page of what the advice achieved for their referral: read when it is opened, so it shows
the outcomes as corrected since, and nothing when the patient has not agreed (or no longer agrees) to share
them (consent scope 3). A practice champion reads it for every referral of their organisation, without the
patient's initials where they may not see the referral itself."""

from django.http import Http404
from django.shortcuts import render

from hjp.accounts.roles import REFERRERS, role_required
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.lookups import get_visible_or_404
from outcomes.selectors import case as selectors
from referrals.models import Referral
from referrals.permissions import is_referrer_side, may_read_outcome


@role_required(REFERRERS, message="Only referrers read this page.")
def referral_outcome(request, referral_pk):
    user = request.user
    queryset = Referral.objects.select_related("consent", "patient", "advice_organisation", "case", "referring_team")
    referral = get_visible_or_404(queryset.outcomes_visible_to(user), referral_pk, "No such referral.")
    case = getattr(referral, "case", None)  # read with the referral; None before one is opened
    if case is None or not may_read_outcome(user, referral):
        raise Http404("No outcome for this referral.")
    audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=referral, summary="outcome")
    sharing = referral.consent.allows_outcome_feedback
    return render(
        request,
        "outcomes/referral_outcome.html",
        {
            "referral": referral,
            "case": case,
            "sharing": sharing,
            # A champion reading a colleague's referral sees its reference and team, not who the patient is.
            "shows_patient": is_referrer_side(user, referral),
            "issues": selectors.issues_with_counted_outcomes(case=case) if sharing else [],
            "totals": selectors.case_money(case=case) if sharing else None,
        },
    )

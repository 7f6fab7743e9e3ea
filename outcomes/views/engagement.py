"""The engagement of referring organisations and teams: a lead's view of a partnership (managers, the advice
service's supervisors), or a practice champion's view of their own organisation. Figures and pseudonymous
references only, never a patient's details."""

from django.shortcuts import render
from django.utils import timezone

from hjp.accounts.models import Organisation
from hjp.accounts.roles import ENGAGEMENT_LEADS, role_required
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_records
from outcomes import permissions
from outcomes.selectors.engagement import INACTIVE_DAYS, engagement, recent_outcomes


@role_required(ENGAGEMENT_LEADS, message="You lead no referring organisation's engagement.")
def engagement_view(request):
    user = request.user
    partnerships, organisations, scope = permissions.get_engagement_scope(
        user, partnership=request.GET.get("partnership"), organisation=request.GET.get("organisation")
    )
    today = timezone.localdate()
    if isinstance(scope, Organisation):
        figures = engagement(organisations=[scope], today=today)
        recent = list(recent_outcomes(user=user, organisation=scope))
        # The champion reads colleagues' referrals (by reference): each one's "who has looked" lists the page.
        if recent:
            audit_records(actor=user, action=AuditEvent.Action.VIEW, objs=recent, summary="engagement: latest outcomes")
    else:
        figures = engagement(
            organisations=list(scope.health_organisations.order_by("name", "pk")), partnership_id=scope.pk, today=today
        )
        recent = []
    return render(
        request,
        "outcomes/engagement.html",
        {
            "scope": scope,
            "is_organisation": isinstance(scope, Organisation),
            "partnerships": partnerships,
            "organisations": organisations,
            "show_picker": len(partnerships) + len(organisations) > 1,
            "figures": figures,
            "recent": recent,
            "inactive_days": INACTIVE_DAYS,
        },
    )

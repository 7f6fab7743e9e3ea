"""Who may do what to another user's account, each rule once. Views find the user through
hjp.accounts.selectors, which answers 404 for a user the actor may not act on."""

from hjp.accounts.models import Membership, Role
from hjp.accounts.roles import roles_for

ADVICE_ROLES = (Role.ADVISOR, Role.SUPERVISOR)


def can_reset_second_factors(*, by, user) -> bool:
    """An admin may reset anyone's second factors but their own; a supervisor those of the advisors and
    supervisors of their own advice organisation who are not admins. Nobody else may reset anyone's."""
    if by.pk == user.pk or not (by.is_authenticated and by.is_active):
        return False
    if by.is_staff:
        return True
    if user.is_staff:
        return False
    return Membership.objects.filter(
        user=user, role__in=ADVICE_ROLES, organisation_id__in=roles_for(by).supervisor_org_ids
    ).exists()

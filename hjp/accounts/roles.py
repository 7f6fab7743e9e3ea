"""What a signed-in user is: their roles and the organisations and partnerships those roles cover.

Loaded once per request (cached on the user object) and used by every app's permission module.
"""

import functools
from dataclasses import dataclass, field

from django.http import Http404

from hjp.accounts.models import Membership, Role

# Staff are not a membership role; they land on the admin site.
ADMIN = "admin"
# Nor is a practice champion: a referrer whose membership says so (Membership.is_champion).
CHAMPION = "champion"

# The role sets every gate and menu names, each written once.
REFERRERS = frozenset({Role.REFERRER})
ADVICE_WORKERS = frozenset({Role.ADVISOR, Role.SUPERVISOR})  # advisors and supervisors both work cases
SUPERVISORS = frozenset({Role.SUPERVISOR})
MANAGERS = frozenset({Role.MANAGER})
FUNDERS = frozenset({Role.FUNDER})
ADMINS = frozenset({ADMIN})
CHAMPIONS = frozenset({CHAMPION})
# Who reads the engagement of referring organisations and teams: managers and the advice service's supervisors
# for their partnerships, a practice champion for their own organisation (outcomes.permissions).
ENGAGEMENT_LEADS = MANAGERS | SUPERVISORS | CHAMPIONS
# Who must sign in with a second factor from their first sign-in; a referrer must where any of their
# organisations requires it of its referrers (Organisation.requires_two_factor_for_referrers).
SECOND_FACTOR_ROLES = ADVICE_WORKERS | MANAGERS | FUNDERS | ADMINS
# The data protection role: an admin-granted permission (on referrals.Patient) to find any patient, export what
# is held about them and read who has looked. Whoever holds it must use a second factor too, whatever else they are.
SUBJECT_ACCESS_PERMISSION = "referrals.subject_access"


@dataclass(frozen=True)
class Roles:
    roles: frozenset = field(default_factory=frozenset)
    referrer_org_ids: frozenset = field(default_factory=frozenset)
    shared_visibility_org_ids: frozenset = field(default_factory=frozenset)
    # Organisations the user is a practice champion of (Membership.is_champion): their figures and their
    # referrals' outcomes (referrals.models.ReferralQuerySet.outcomes_visible_to), not their patients' details.
    champion_org_ids: frozenset = field(default_factory=frozenset)
    advisor_org_ids: frozenset = field(default_factory=frozenset)
    supervisor_org_ids: frozenset = field(default_factory=frozenset)
    manager_partnership_ids: frozenset = field(default_factory=frozenset)
    funder_partnership_ids: frozenset = field(default_factory=frozenset)
    referrer_memberships: tuple = ()
    # The partnerships of the manager and funder memberships, read with them: {id: Partnership}.
    partnerships: dict = field(default_factory=dict, hash=False, compare=False)
    two_factor_referrer_org_ids: frozenset = field(default_factory=frozenset)
    is_admin: bool = False

    @property
    def roles_require_second_factor(self) -> bool:
        """Whether the user's roles alone require a second factor; the whole rule, which adds the data protection
        permission, is `must_use_second_factor(user)`."""
        return self.holds_any(SECOND_FACTOR_ROLES) or bool(self.two_factor_referrer_org_ids)

    @property
    def is_referrer(self) -> bool:
        return Role.REFERRER in self.roles

    @property
    def is_champion(self) -> bool:
        return bool(self.champion_org_ids)

    @property
    def is_advisor(self) -> bool:
        """Advisors and supervisors both work cases."""
        return bool(self.advice_org_ids)

    @property
    def is_supervisor(self) -> bool:
        return Role.SUPERVISOR in self.roles

    @property
    def is_manager(self) -> bool:
        return Role.MANAGER in self.roles

    @property
    def is_funder(self) -> bool:
        return Role.FUNDER in self.roles

    @property
    def advice_org_ids(self) -> frozenset:
        return self.advisor_org_ids | self.supervisor_org_ids

    def holds_any(self, role_set) -> bool:
        """Whether the user holds any role of `role_set` (one of the named sets above, or their union)."""
        return (
            bool(self.roles & role_set)
            or (ADMIN in role_set and self.is_admin)
            or (CHAMPION in role_set and self.is_champion)
        )

    @property
    def primary_role(self) -> str | None:
        """The role whose home page the user lands on, when they hold several."""
        for role in (Role.REFERRER, Role.SUPERVISOR, Role.ADVISOR, Role.MANAGER, Role.FUNDER):
            if role in self.roles:
                return role
        return ADMIN if self.is_admin else None


def roles_for(user) -> Roles:
    if not user.is_authenticated:
        return Roles()
    cached = getattr(user, "_hjp_roles", None)
    if cached is not None:
        return cached
    memberships = list(Membership.objects.filter(user=user).select_related("organisation", "team", "partnership"))
    by_role = lambda role: [m for m in memberships if m.role == role]  # noqa: E731
    referrer = by_role(Role.REFERRER)
    roles = Roles(
        roles=frozenset(m.role for m in memberships),
        referrer_org_ids=frozenset(m.organisation_id for m in referrer),
        shared_visibility_org_ids=frozenset(
            m.organisation_id for m in referrer if m.organisation.shares_referrals_internally
        ),
        champion_org_ids=frozenset(m.organisation_id for m in referrer if m.is_champion),
        advisor_org_ids=frozenset(m.organisation_id for m in by_role(Role.ADVISOR)),
        supervisor_org_ids=frozenset(m.organisation_id for m in by_role(Role.SUPERVISOR)),
        manager_partnership_ids=frozenset(m.partnership_id for m in by_role(Role.MANAGER)),
        funder_partnership_ids=frozenset(m.partnership_id for m in by_role(Role.FUNDER)),
        referrer_memberships=tuple(referrer),
        partnerships={m.partnership_id: m.partnership for m in memberships if m.partnership_id is not None},
        two_factor_referrer_org_ids=frozenset(
            m.organisation_id for m in referrer if m.organisation.requires_two_factor_for_referrers
        ),
        is_admin=user.is_staff,
    )
    user._hjp_roles = roles
    return roles


def role_required(*role_sets: frozenset, message: str = "No such page."):
    """The one role gate on views: a user holding none of the roles in `role_sets` is told the page does not
    exist (404, as for an object they may not see). A second wall: the view's selectors still narrow every
    object to what the user may see."""
    allowed = frozenset().union(*role_sets)

    def decorator(view):
        @functools.wraps(view)
        def gated(request, *args, **kwargs):
            if not roles_for(request.user).holds_any(allowed):
                raise Http404(message)
            return view(request, *args, **kwargs)

        gated.role_sets = allowed  # so a test can check that every gated page has its gate
        return gated

    return decorator


def must_use_second_factor(user) -> bool:
    """Whether the user must have a second factor and pass it at every sign-in: their roles
    (Roles.roles_require_second_factor), or the data protection permission, which opens every patient's record. The
    permission is read only where the roles do not already decide (a superuser's is free)."""
    return roles_for(user).roles_require_second_factor or user.has_perm(SUBJECT_ACCESS_PERMISSION)

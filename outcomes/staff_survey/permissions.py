"""Who reads the referrers' answers about a partnership's advice service: the advisors and supervisors of its
advice organisation and the partnership's managers. Who answers is the selector's rule: the recipient of an
outcome report, while they still see its referral and the patient's consent stands."""

from django.db.models import Q

from hjp.accounts.models import Partnership
from hjp.accounts.roles import roles_for


def _results_scope(user) -> tuple[frozenset, frozenset]:
    """The one rule: the advice organisations the user works in, and the partnerships they manage."""
    roles = roles_for(user)
    return frozenset(roles.advice_org_ids), frozenset(roles.manager_partnership_ids)


def results_partnerships_q(user) -> Q:
    advice_orgs, managed = _results_scope(user)
    return Q(advice_organisation_id__in=advice_orgs) | Q(pk__in=managed)


def may_read_results(user, partnership: Partnership) -> bool:
    advice_orgs, managed = _results_scope(user)
    return partnership.advice_organisation_id in advice_orgs or partnership.pk in managed

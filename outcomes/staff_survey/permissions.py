"""Who reads the referrers' answers about a partnership's advice service: the advisors and supervisors of its
advice organisation and the partnership's managers. Who answers is the selector's rule: the recipient of an
outcome report, while they still see its referral and the patient's consent stands."""

from django.db.models import Q

from hjp.accounts.models import Partnership
from hjp.accounts.roles import roles_for


def results_partnerships_q(user) -> Q:
    roles = roles_for(user)
    return Q(advice_organisation_id__in=roles.advice_org_ids) | Q(pk__in=roles.manager_partnership_ids)


def may_read_results(user, partnership: Partnership) -> bool:
    roles = roles_for(user)
    return partnership.advice_organisation_id in roles.advice_org_ids or partnership.pk in roles.manager_partnership_ids

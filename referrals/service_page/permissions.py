"""Who edits a partnership's service page: the supervisors of its advice organisation and the partnership's
managers. Who reads it is the model's `partnerships_visible_to`."""

from hjp.accounts.models import Partnership
from hjp.accounts.roles import roles_for


def can_edit(user, partnership: Partnership) -> bool:
    roles = roles_for(user)
    return (
        partnership.advice_organisation_id in roles.supervisor_org_ids
        or partnership.pk in roles.manager_partnership_ids
    )

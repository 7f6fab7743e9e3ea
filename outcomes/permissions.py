"""Managers see their partnerships' dashboards; funders and managers the funder report. Aggregates only.
Who may correct a case's recorded outcomes."""

from django.http import Http404

from casework.permissions import is_case_worker, is_supervisor_of
from hjp.accounts.models import Partnership
from hjp.accounts.roles import SUBJECT_ACCESS_PERMISSION, roles_for


def _by_name(partnerships) -> list[Partnership]:
    return sorted(partnerships, key=lambda partnership: (partnership.name, partnership.pk))


def dashboard_partnerships(user) -> list[Partnership]:
    """The partnerships the user manages, by name: read with the memberships (roles_for), no query of their own."""
    roles = roles_for(user)
    return _by_name(roles.partnerships[pk] for pk in roles.manager_partnership_ids)


def report_partnerships(user) -> list[Partnership]:
    """The partnerships the user manages or funds, by name, as `dashboard_partnerships`."""
    roles = roles_for(user)
    return _by_name(roles.partnerships[pk] for pk in roles.manager_partnership_ids | roles.funder_partnership_ids)


def get_partnership_for(user, pk, *, funder_report: bool = False) -> Partnership:
    partnerships = report_partnerships(user) if funder_report else dashboard_partnerships(user)
    found = next((partnership for partnership in partnerships if str(partnership.pk) == str(pk).strip()), None)
    if found is None:
        raise Http404("No such partnership.")
    return found


# --- correcting a case's recorded outcomes ---------------------------------------------------------------


def can_correct_outcomes(user, case) -> bool:
    """Edit an outcome or mark it entered in error: any advisor of the case's advice organisation while the
    case is open (as recording outcomes is); once it has closed, a supervisor of that organisation."""
    organisation_id = case.referral.advice_organisation_id
    if case.is_open:
        return is_case_worker(user, organisation_id)
    return is_supervisor_of(user, organisation_id)


def can_confirm_expected_gain(user, case) -> bool:
    """Turn expected money into confirmed money (and correct its amounts to the decision's) when the decision
    arrives, often months after the case closed: whoever may correct outcomes, and also, after the close, the
    advisor the case was with (it is their decision letter that arrives)."""
    return can_correct_outcomes(user, case) or (
        not case.is_open and case.advisor_id == user.pk and is_case_worker(user, case.referral.advice_organisation_id)
    )


# --- subject access ---------------------------------------------------------------------------------------


def has_subject_access_role(user) -> bool:
    """The data protection role: the permission an admin grants a user (or their group) in the admin."""
    return user.is_authenticated and user.has_perm(SUBJECT_ACCESS_PERMISSION)


def can_see_who_looked(user, patient) -> bool:
    """Who has looked at a patient: the data protection role, and a supervisor of the advice organisation the
    patient's referral was sent to."""
    if has_subject_access_role(user):
        return True
    referral = getattr(patient, "referral", None)
    return referral is not None and is_supervisor_of(user, referral.advice_organisation_id)

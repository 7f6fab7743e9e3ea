"""Managers see their partnerships' dashboards; funders and managers the funder report. Aggregates only.
Who reads the engagement of referring organisations. Who may correct a case's recorded outcomes; who may write,
review and include case studies."""

from django.http import Http404

from casework.permissions import is_case_worker, is_supervisor_of
from hjp.accounts.models import Organisation, Partnership
from hjp.accounts.roles import SUBJECT_ACCESS_PERMISSION, roles_for
from hjp.core.lookups import get_visible_or_404
from outcomes.models import CaseStudy, CaseStudyState


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


# --- engagement of referring organisations and teams ------------------------------------------------------


def engagement_partnerships(user) -> list[Partnership]:
    """The partnerships whose referring organisations' engagement the user leads, by name: those they manage, and
    those of the advice organisations they supervise (one query, only for a supervisor)."""
    roles = roles_for(user)
    found = {pk: roles.partnerships[pk] for pk in roles.manager_partnership_ids}
    if roles.supervisor_org_ids:
        found |= {p.pk: p for p in Partnership.objects.filter(advice_organisation_id__in=roles.supervisor_org_ids)}
    return _by_name(found.values())


def engagement_organisations(user) -> list[Organisation]:
    """The organisations the user is a practice champion of, by name: read with the memberships, no query."""
    memberships = roles_for(user).referrer_memberships
    return sorted((m.organisation for m in memberships if m.is_champion), key=lambda o: (o.name, o.pk))


def _chosen(options, pk, message):
    found = next((option for option in options if str(option.pk) == str(pk).strip()), None)
    if found is None:
        raise Http404(message)
    return found


def get_engagement_scope(user, *, partnership=None, organisation=None) -> tuple[list, list, Partnership | Organisation]:
    """The partnerships the user leads, the organisations they champion, and the one whose engagement they asked
    for (`partnership` or `organisation`, an id as typed), else the first; 404 for any other, and for a user who
    may read none."""
    partnerships, organisations = engagement_partnerships(user), engagement_organisations(user)
    if organisation:
        return partnerships, organisations, _chosen(organisations, organisation, "No such organisation.")
    if partnership:
        return partnerships, organisations, _chosen(partnerships, partnership, "No such partnership.")
    first = partnerships[:1] or organisations[:1]
    if not first:
        raise Http404("You lead no referring organisation's engagement.")
    return partnerships, organisations, first[0]


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


# --- case studies -----------------------------------------------------------------------------------------


def get_case_study_for_user(user, pk) -> CaseStudy:
    """A case study the user may read (`CaseStudy.objects.visible_to`); 404 whether missing or forbidden."""
    qs = CaseStudy.objects.select_related(
        "case__referral__consent", "author", "reviewed_by", "included_by", "agreement_recorded_by"
    ).visible_to(user)
    return get_visible_or_404(qs, pk, "No such case study.")


def can_write_case_study(user, case) -> bool:
    """Any advisor or supervisor of the case's advice service, while the patient's consent stands."""
    return is_case_worker(user, case.referral.advice_organisation_id) and not case.referral.consent.is_withdrawn


def can_revise_case_study(user, story: CaseStudy) -> bool:
    """Its author, while it is returned to them and they still work for that service."""
    return (
        story.state == CaseStudyState.RETURNED
        and story.author_id == user.pk
        and is_case_worker(user, story.case.referral.advice_organisation_id)
    )


def can_review_case_study(user, story: CaseStudy) -> bool:
    """A supervisor of the case's advice service other than its author, while it waits for review."""
    return (
        story.state == CaseStudyState.SUBMITTED
        and story.author_id != user.pk
        and is_supervisor_of(user, story.case.referral.advice_organisation_id)
    )


def can_include_case_study(user, story: CaseStudy) -> bool:
    """A manager of the case's partnership, once a supervisor approved the story."""
    return (
        story.state in (CaseStudyState.APPROVED, CaseStudyState.INCLUDED)
        and story.case.referral.partnership_id in roles_for(user).manager_partnership_ids
    )


def can_withdraw_case_study(user, story: CaseStudy) -> bool:
    """The advice service records that the patient no longer agrees (they hear it from the patient)."""
    return story.state != CaseStudyState.WITHDRAWN and is_case_worker(user, story.case.referral.advice_organisation_id)

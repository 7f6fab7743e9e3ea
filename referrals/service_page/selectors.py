"""Reads for the service pages, each taking the acting user and returning only what they may see."""

from hjp.accounts.models import Partnership
from hjp.accounts.roles import roles_for
from hjp.core.lookups import get_visible_or_404
from referrals.clinics import selectors as clinic_selectors
from referrals.service_page.models import partnerships_visible_to

# The sessions a service page lists: the next few; the clinics page has them all.
PAGE_SESSIONS = 8


def service_partnerships(*, user) -> list[Partnership]:
    """The partnerships whose page the user may read, by name, each with its advice organisation and its page
    (None before one is written). One query."""
    return list(
        partnerships_visible_to(user).select_related("advice_organisation", "service_page").order_by("name", "pk")
    )


def get_service_partnership_for_user(user, pk) -> Partnership:
    """The partnership with its advice organisation and page, if the user may read its page; 404 otherwise."""
    queryset = partnerships_visible_to(user).select_related("advice_organisation", "service_page__updated_by")
    return get_visible_or_404(queryset, pk, "No such service page.")


def page_of(partnership: Partnership):
    """The partnership's page as read with it, or None before one is written."""
    return getattr(partnership, "service_page", None)


def sees_clinics(user) -> bool:
    """Whether the user sees clinic sessions at all (referrers and the advice side: ClinicSession.visible_to)."""
    roles = roles_for(user)
    return bool(roles.referrer_org_ids or roles.advice_org_ids)


def page_sessions(*, user, partnership: Partnership) -> list:
    """The partnership's next advice clinic sessions the user may see, each with `free_count`: the clinics'
    own selector (two queries), so the page shows what the clinics page shows."""
    sessions = list(clinic_selectors.upcoming_sessions(user=user, partnership_ids=[partnership.pk])[:PAGE_SESSIONS])
    for session in sessions:
        session.free_count = len(clinic_selectors.free_slots(session))
    return sessions

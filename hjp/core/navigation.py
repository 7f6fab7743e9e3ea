"""Where each role lands and what its navigation shows. URL names only, so the core imports no app."""

from hjp.accounts.models import Role
from hjp.accounts.roles import (
    ADMIN,
    ADVICE_WORKERS,
    ENGAGEMENT_LEADS,
    FUNDERS,
    MANAGERS,
    REFERRERS,
    SUPERVISORS,
    roles_for,
)

HOME_URL_NAMES = {
    Role.REFERRER: "referrals:home",
    Role.ADVISOR: "casework:home",
    Role.SUPERVISOR: "casework:home",
    Role.MANAGER: "outcomes:dashboard",
    Role.FUNDER: "outcomes:funder_report",
    ADMIN: "admin:index",
}

NAV_ITEMS = [
    # (label, url name, roles that see it)
    ("Home", "referrals:home", REFERRERS),
    ("New referral", "referrals:create", REFERRERS),
    ("My referrals", "referrals:list", REFERRERS),
    ("Evidence requests", "casework:evidence_list", REFERRERS),
    ("Today", "casework:home", ADVICE_WORKERS),
    ("Triage", "casework:triage", ADVICE_WORKERS),
    ("Cases", "casework:caseload", ADVICE_WORKERS),
    ("Referrals", "referrals:list", ADVICE_WORKERS),
    ("Providers", "casework:providers", ADVICE_WORKERS),
    ("Clinics", "referrals:clinic_list", ADVICE_WORKERS),
    ("People", "accounts:people", SUPERVISORS),
    ("Dashboard", "outcomes:dashboard", MANAGERS),
    # The advice service's page for referrers (its supervisors and the managers edit it) and what referrers said.
    ("Service page", "referrals:service_page_list", ADVICE_WORKERS | MANAGERS),
    ("Referrers' ratings", "outcomes:staff_survey_results", ADVICE_WORKERS | MANAGERS),
    ("Funder report", "outcomes:funder_report", MANAGERS | FUNDERS),
    ("Engagement", "outcomes:engagement", ENGAGEMENT_LEADS),
    ("Case studies", "outcomes:case_studies", ADVICE_WORKERS | MANAGERS),
]


def nav_items_for(user) -> list[tuple[str, str]]:
    roles = roles_for(user)
    items, seen = [], set()
    for label, url_name, allowed in NAV_ITEMS:
        if roles.holds_any(allowed) and url_name not in seen:
            seen.add(url_name)
            label = "My referrals" if url_name == "referrals:list" and roles.is_referrer else label
            items.append((label, url_name))
    return items

"""Where each role lands and what its navigation shows. URL names only, so the core imports no app."""

from hjp.accounts.models import Role
from hjp.accounts.roles import roles_for

HOME_URL_NAMES = {
    Role.REFERRER: "referrals:home",
    Role.ADVISOR: "casework:home",
    Role.SUPERVISOR: "casework:home",
    Role.MANAGER: "outcomes:dashboard",
    Role.FUNDER: "outcomes:funder_report",
    "admin": "admin:index",
}

NAV_ITEMS = [
    # (label, url name, roles that see it)
    ("Home", "referrals:home", {Role.REFERRER}),
    ("New referral", "referrals:create", {Role.REFERRER}),
    ("My referrals", "referrals:list", {Role.REFERRER}),
    ("Evidence requests", "casework:evidence_list", {Role.REFERRER}),
    ("Today", "casework:home", {Role.ADVISOR, Role.SUPERVISOR}),
    ("Triage", "casework:triage", {Role.ADVISOR, Role.SUPERVISOR}),
    ("Cases", "casework:caseload", {Role.ADVISOR, Role.SUPERVISOR}),
    ("Referrals", "referrals:list", {Role.ADVISOR, Role.SUPERVISOR}),
    ("Providers", "casework:providers", {Role.ADVISOR, Role.SUPERVISOR}),
    ("Dashboard", "outcomes:dashboard", {Role.MANAGER}),
    ("Funder report", "outcomes:funder_report", {Role.MANAGER, Role.FUNDER}),
]


def nav_items_for(user) -> list[tuple[str, str]]:
    roles = roles_for(user)
    items, seen = [], set()
    for label, url_name, allowed in NAV_ITEMS:
        if roles.roles & allowed and url_name not in seen:
            seen.add(url_name)
            label = "My referrals" if url_name == "referrals:list" and roles.is_referrer else label
            items.append((label, url_name))
    return items

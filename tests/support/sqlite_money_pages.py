"""Render every page and text that shows money against a fresh SQLite database, the default of `make run`.

Run as a script by tests/outcomes/test_money.py (SQLite returns sums of decimals as floats, which PostgreSQL never
does, so this cannot run inside the PostgreSQL test session). Prints a JSON object: output name -> text.

    DATABASE_URL=sqlite:////tmp/x.sqlite3 python -m tests.support.sqlite_money_pages
"""

import json
import os
import sys
from datetime import UTC, date, datetime

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hjp.settings.test")
if not os.environ.get("DATABASE_URL", "").startswith("sqlite:"):
    sys.exit("Set DATABASE_URL to a SQLite database.")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from casework.models import CaseState, ClosureReason  # noqa: E402
from hjp.accounts.models import Role  # noqa: E402
from outcomes import running_figures, services  # noqa: E402
from outcomes.selectors.digest import digest_periods  # noqa: E402
from referrals.models import ReferralStatus  # noqa: E402
from tests import factories  # noqa: E402
from tests.support.auth import Client  # noqa: E402

CLOSED_AT = datetime(2026, 3, 10, 12, tzinfo=UTC)
PERIOD = {"period": "month-2026-03"}
CASES = 10


def build():
    """CASES closed cases in March 2026 (enough for funders and digests to see the sums), each with £73.90 a
    week (£3,842.80 a year) and £1,182.40 one-off, all confirmed: £5,025.20 a case. SQLite adds them as floats."""
    health = factories.OrganisationFactory(name="Riverside Surgery")
    partnership = factories.PartnershipFactory(name="SQLite HJP", health_organisations=[health])
    advisor = factories.advisor(partnership.advice_organisation)
    for _ in range(CASES):
        referral = factories.ReferralFactory(
            partnership=partnership,
            referring_organisation=health,
            status=ReferralStatus.CLOSED,
            submitted_at=datetime(2026, 3, 1, tzinfo=UTC),
        )
        case = factories.CaseFactory(
            referral=referral,
            advisor=advisor,
            opened_at=referral.submitted_at,
            first_contact_at=referral.submitted_at,
            state=CaseState.CLOSED,
            closed_at=CLOSED_AT,
            closure_reason=ClosureReason.WORK_COMPLETED,
        )
        issue = factories.CaseIssueFactory(case=case)
        factories.FinancialOutcomeFactory(issue=issue, recurring_amount="73.90", recurring_period="weekly")
        factories.FinancialOutcomeFactory(
            issue=issue, kind="backdated_award", recurring_amount=None, recurring_period="", one_off_amount="1182.40"
        )
    factories.FundingFactory(
        partnership=partnership, amount="30000.10", period_start=date(2026, 3, 1), period_end=date(2026, 3, 31)
    )
    return partnership, health, advisor, case


def main():
    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)
    partnership, health, advisor, case = build()
    client = Client()
    out = {}
    client.force_login(advisor)
    out["case outcomes page"] = client.get(reverse("outcomes:case_outcomes", args=[case.pk])).content.decode()
    client.force_login(factories.partnership_member(partnership, Role.MANAGER))
    out["dashboard"] = client.get(reverse("outcomes:dashboard"), PERIOD).content.decode()
    out["funder report"] = client.get(reverse("outcomes:funder_report"), PERIOD).content.decode()
    out["funder report CSV"] = client.get(reverse("outcomes:funder_report_csv"), PERIOD).content.decode()
    out["outcome report"] = services.outcome_report_body(case)
    running_figures.refresh_pending()  # as the digest's delivery does before it composes
    blocks = digest_periods(organisation=health, year=2026, month=3)
    out["digest"] = services.digest_body(organisation=health, blocks=blocks)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

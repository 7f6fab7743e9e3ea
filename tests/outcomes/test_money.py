"""Money is shown one way everywhere (£3,842.80), on PostgreSQL and on SQLite (the default of `make run`)."""

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse

from hjp.core.csv_export import csv_cell
from hjp.core.money import format_money, pennies
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
# A sum of money not in the house format: too many decimals, or four figures before the point with no comma.
BADLY_FORMATTED = re.compile(r"£-?\d*\.\d{3,}|£\d{4}|\d\.\d{3,}0")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("3842.80"), "£3,842.80"),
        (3842.8000000000002, "£3,842.80"),  # what SQLite gives for a sum of decimals
        (Decimal("3842.80000000000"), "£3,842.80"),  # and what Django makes of it
        (5025.199999999999, "£5,025.20"),
        (Decimal("0.005"), "£0.01"),
        (0, "£0.00"),
        (1234567, "£1,234,567.00"),
        (Decimal("-5"), "-£5.00"),
        (None, "-"),
    ],
)
def test_one_format_for_every_amount_whatever_the_database_returns(value, shown):
    assert format_money(value) == shown
    assert Template("{% load hjp_tags %}{{ value|money }}").render(Context({"value": value})) == shown


def test_sums_are_held_to_the_penny():
    assert pennies(3842.8000000000002) == Decimal("3842.80")
    assert str(pennies(Decimal("5025.20000000000"))) == "5025.20"
    assert pennies(None) == Decimal("0.00")
    # A CSV cell: pounds and pence, no symbol or separator.
    assert csv_cell(pennies(19214.000000000004)) == "19214.00"


@pytest.mark.django_db
def test_the_case_outcomes_page_shows_pounds_and_pence_with_separators(client, open_case, advisor_user):
    issue = open_case.issues.first()
    factories.FinancialOutcomeFactory(issue=issue, recurring_amount="73.90", recurring_period="weekly")
    factories.FinancialOutcomeFactory(
        issue=issue, kind="backdated_award", recurring_amount=None, recurring_period="", one_off_amount="1182.40"
    )
    client.force_login(advisor_user)
    html = client.get(reverse("outcomes:case_outcomes", args=[open_case.pk])).content.decode()
    assert "£73.90 weekly = £3,842.80 a year" in html
    assert "£3,842.80 a year in regular payments plus £1,182.40 one-off = £5,025.20." in html


@pytest.fixture(scope="module")
def sqlite_outputs(tmp_path_factory):
    """Every page and text that shows money, rendered by a separate process against a new SQLite database."""
    database = tmp_path_factory.mktemp("sqlite") / "hjp.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "hjp.settings.test"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.sqlite_money_pages"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            "case outcomes page",
            [
                "£73.90 weekly = £3,842.80 a year",
                "£3,842.80 a year in regular payments plus £1,182.40 one-off = £5,025.20.",
            ],
        ),
        ("outcome report", ["£73.90 weekly (£3,842.80 a year)", "£1,182.40 one-off", "the patient: £5,025.20"]),
        ("dashboard", ["£50,252.00", "£38,428.00", "£11,824.00", "£30,000.10", "£5,025.20", "£1.68"]),
        # Through the disclosure method: money to the nearest £100, per referral of the published 10.
        ("funder report", ["£50,300.00", "£38,400.00", "£11,800.00", "£30,000.10", "£5,030.00", "£1.68"]),
        (
            "funder report CSV",
            [",50300.00,GBP", ",38400.00,GBP", ",11800.00,GBP", ",30000.10,GBP", ",1.68,GBP per GBP"],
        ),
        ("digest", ["Money gained for patients, confirmed: £50,300.00"]),
    ],
)
def test_on_sqlite_money_is_shown_as_on_postgresql(sqlite_outputs, output, expected):
    text = sqlite_outputs[output]
    for amount in expected:
        assert amount in text, amount
    assert not BADLY_FORMATTED.search(text), BADLY_FORMATTED.search(text).group()

"""One set of named date formats: pages (the template filters) and text composed in code read the same."""

from datetime import date, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from hjp.core.dates import format_date, format_date_time
from tests import factories


def _render(source: str, **context) -> str:
    return Template("{% load hjp_tags %}" + source).render(Context(context))


def test_a_date_reads_the_same_on_a_page_and_in_code():
    assert _render("{{ d|date_only }}", d=date(2026, 3, 5)) == format_date(date(2026, 3, 5)) == "5 Mar 2026"


def test_a_time_reads_in_local_time_on_a_page_and_in_code():
    moment = datetime(2026, 7, 5, 13, 30, tzinfo=timezone.get_fixed_timezone(0))
    # 13:30 UTC is 14:30 in London in summer.
    assert _render("{{ t|date_time }}", t=moment) == format_date_time(moment) == "5 Jul 2026 14:30"


def test_no_date_shows_nothing():
    assert _render("[{{ d|date_only }}][{{ d|date_time }}]", d=None) == "[][]"


@pytest.mark.django_db
def test_a_deadline_and_a_funding_name_their_dates_as_the_pages_do():
    """Before, code wrote "05 Mar 2026" where every page wrote "5 Mar 2026"."""
    deadline = factories.DeadlineFactory(due_date=date(2026, 3, 5))
    assert str(deadline) == "Chase the DWP (5 Mar 2026)"
    funding = factories.FundingFactory(period_start=date(2025, 1, 1), period_end=date(2025, 12, 31))
    assert str(funding).endswith("(1 Jan 2025 to 31 Dec 2025)")


def test_the_day_of_a_late_evening_and_a_day_in_welsh_read_as_django_formats_them():
    from django.utils import translation
    from django.utils.formats import date_format

    from hjp.core.dates import DATE

    late = datetime(2026, 7, 5, 23, 30, tzinfo=timezone.get_fixed_timezone(0))  # 00:30 on the 6th in London
    assert _render("{{ t|date_only }}", t=late) == "6 Jul 2026"
    day = date(2026, 3, 5)
    english = _render("{{ d|date_only }}", d=day)
    with translation.override("cy"):
        welsh = _render("{{ d|date_only }}", d=day)
        assert welsh == date_format(day, DATE)
    assert english == "5 Mar 2026" != welsh  # each language its own, however often the day is shown
    assert _render("{{ d|date_only }}", d=day) == english

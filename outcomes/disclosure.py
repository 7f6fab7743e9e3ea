"""What may be disclosed of the figures outside the advice service: one method, written once, used by the funder
report, its CSV and the referrers' digest (managers see exact figures on their dashboard: see docs/DESIGN.md).

The method (METHOD, printed under every table it protects):
- every count is rounded to the nearest multiple of 5 (ROUNDING_BASE), from the exact count, totals included
  (a total is the rounded exact total, never the sum of rounded cells);
- every count below 10 (SHOWN_FROM), none included, is shown as "fewer than 10".
So each published count stands for a range of at least three exact values (10 means 10 to 12, 15 means 13 to
17, ...), and "fewer than 10" for 0 to 9, which holds both 0 and 5. Subtracting published counts (a total minus
its other cells, a quarter minus its months, a year minus its quarters) gives a range at least five values
wide, and any such range that holds a count from 1 to 4 also holds 0 or 5: no count from 1 to 4 can be pinned
(docs/DESIGN.md gives the argument; tests/outcomes/test_disclosure_differencing.py tries every subtraction).

Figures that are not counts rest on counts, so:
- a rate is worked out from the published (rounded) counts and shown only when both are shown as numbers;
- money, an average or a median is shown only when the group it rests on has 10 cases or more, and money is
  rounded to the nearest £100 (MONEY_BASE), so that subtracting two totals gives only an estimate."""

from decimal import ROUND_HALF_UP, Decimal

from hjp.core.money import pennies

ROUNDING_BASE = 5
SHOWN_FROM = 10
MONEY_BASE = Decimal(100)
FEWER = f"fewer than {SHOWN_FROM}"
NOT_SHOWN = "not shown"
METHOD = (
    f"Disclosure control: every count is rounded to the nearest {ROUNDING_BASE}, totals from the exact figures; "
    f"counts below {SHOWN_FROM}, none included, are shown as \u201c{FEWER}\u201d. Rates are worked out from the "
    f"rounded counts; money, averages and medians are shown only for {SHOWN_FROM} cases or more, money rounded to "
    f"the nearest \u00a3{MONEY_BASE}."
)


def rounded(count: int) -> int | None:
    """A count as published: the nearest multiple of 5, or None for 'fewer than 10' (0 to 9)."""
    if count < SHOWN_FROM:
        return None
    return ROUNDING_BASE * ((count + ROUNDING_BASE // 2) // ROUNDING_BASE)


def shows(count: int) -> bool:
    """Whether a count, and what rests on it, is shown as a number (10 or more)."""
    return rounded(count) is not None


def count_text(count: int) -> str:
    """A count as published, for a page, a CSV cell or a message: '15', '1,240' or 'fewer than 10'."""
    published = rounded(count)
    return FEWER if published is None else f"{published:,}"


def published_range(shown: str | int) -> range:
    """The exact counts a published count may stand for, as a page shows it (count_text: "1,250") or as the CSV
    writes it (a number): what a reader can know of it."""
    if shown == FEWER:
        return range(0, SHOWN_FROM)
    published = shown if isinstance(shown, int) else int(shown.replace(",", ""))
    return range(max(SHOWN_FROM, published - ROUNDING_BASE // 2), published + ROUNDING_BASE // 2 + 1)


def rate(part: int, whole: int) -> int | None:
    """`part` of `whole` as a whole percent of the *published* counts, or None when either is not shown as a
    number: the rate then tells nothing the two counts do not."""
    shown_part, shown_whole = rounded(part), rounded(whole)
    if shown_part is None or shown_whole is None:
        return None
    return round(100 * shown_part / shown_whole)


def money(amount: Decimal | None, cases: int) -> Decimal | None:
    """Money gained over `cases` cases, to the nearest £100, or None when fewer than 10 cases."""
    if amount is None or not shows(cases):
        return None
    return pennies((amount / MONEY_BASE).quantize(Decimal(1), rounding=ROUND_HALF_UP) * MONEY_BASE)

"""What may be disclosed of a count outside the advice service: the small-number rule, written once.

Managers of a partnership see its exact figures on the dashboard. Funders (the funder report and its CSV) and
referrers (the monthly digest) see a count from 1 to 4 only as 'fewer than 5', and never a rate or a sum of
money that rests on such a count, since it would give the count away (1 decision won of 5 is a count of 1)."""

from django.conf import settings

SUPPRESSED = "suppressed"


def threshold() -> int:
    """The smallest count shown as it is (5): counts from 1 to threshold - 1 are 'small'."""
    return settings.SMALL_NUMBER_THRESHOLD


def is_small(count: int | None) -> bool:
    """A count from 1 to 4: shown to funders and in digests only as 'fewer than 5'."""
    return count is not None and 0 < count < threshold()


def rests_on_small(*counts: int | None) -> bool:
    """A rate or sum derived from these counts is withheld when any of them is small."""
    return any(is_small(count) for count in counts)


def suppress(value: int | None) -> str:
    """A count as funders and referrers see it: 1 to 4 as 'fewer than 5', none as '-'."""
    if value is None:
        return "-"
    if is_small(value):
        return f"fewer than {threshold()}"
    return str(value)


def disclosed_rate(part: int, whole: int) -> int | None:
    """`part` of `whole` as a whole percent, or None when it may not be shown: no `whole`, or either count
    small (the rate would give a small count away)."""
    if not whole or rests_on_small(part, whole):
        return None
    return round(100 * part / whole)

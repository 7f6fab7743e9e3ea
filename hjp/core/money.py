"""Money: amounts in pounds, held to the penny and shown one way everywhere (£3,842.80).

Sums from the database go through `pennies` before anyone sees them: PostgreSQL returns exact decimals, but
SQLite (the default of `make run`) adds decimals as floats and returns 3842.8000000000002 or
Decimal('3842.80000000000').
"""

from decimal import ROUND_HALF_UP, Decimal

PENNY = Decimal("0.01")
NOTHING = "-"


def pennies(value) -> Decimal:
    """`value` (a Decimal, float, int, numeric string or None for no money) rounded to the penny."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = repr(value)  # 3842.8000000000002, not the float's exact binary value
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(value) -> str:
    """£ with a thousands separator and pence: '£3,842.80', '-£5.00'; '-' for no figure (None)."""
    if value is None or value == "":
        return NOTHING
    amount = pennies(value)
    return f"{'-' if amount < 0 else ''}£{abs(amount):,.2f}"

import re

from django.core.exceptions import ValidationError
from django.utils import timezone

from hjp.core.nhs_number import normalise_nhs_number

NHS_NUMBER_WEIGHTS = range(10, 1, -1)
UK_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPS-UW]|[A-HK-Y][0-9][ABEHMNPRV-Y])"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def nhs_number_is_valid(value: str) -> bool:
    """The NHS modulus-11 check: weights 10..2 on the first nine digits; the tenth is the check digit."""
    digits = normalise_nhs_number(value)
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], NHS_NUMBER_WEIGHTS, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(digits[9])


def validate_nhs_number(value: str) -> None:
    digits = normalise_nhs_number(value)
    if not re.fullmatch(r"\d{10}", digits):
        # The NHS's own example: it has 10 digits but fails the check, so it is nobody's number.
        raise ValidationError(
            "Enter an NHS number in the correct format, like 485 777 3456: it has 10 digits", code="nhs_format"
        )
    if not nhs_number_is_valid(digits):
        raise ValidationError(
            "Enter a real NHS number: the last digit (the check digit) does not match the others. "
            "Copy it from the patient's record",
            code="nhs_checksum",
        )


def normalise_postcode(value: str) -> str:
    """Upper case with one space before the inward code, e.g. 'sw1a1aa' -> 'SW1A 1AA'."""
    compact = re.sub(r"\s", "", value or "").upper()
    if len(compact) > 3:
        return f"{compact[:-3]} {compact[-3:]}"
    return compact


def validate_postcode(value: str) -> None:
    compact = re.sub(r"\s", "", value or "").upper()
    if not UK_POSTCODE.fullmatch(compact):
        raise ValidationError("Enter a real postcode, like SW1A 1AA", code="postcode")


def validate_not_in_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError("The date of birth cannot be in the future.", code="future_date")

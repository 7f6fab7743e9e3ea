"""NHS numbers as people key and read them. (Their validity, the modulus-11 check, is referrals' rule.)"""

import re


def normalise_nhs_number(value: str) -> str:
    """The ten digits alone: people type spaces and dashes ("943 476 5919", "943-476-5919")."""
    return re.sub(r"[\s-]", "", value or "")


def format_nhs_number(value) -> str:
    """An NHS number as people read and key it: 3-3-4 digits, "943 476 5919". Anything that is not ten digits
    is shown as it is."""
    digits = normalise_nhs_number(str(value or ""))
    if len(digits) != 10 or not digits.isdigit():
        return value or ""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"

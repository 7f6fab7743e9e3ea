def format_nhs_number(value) -> str:
    """An NHS number as people read and key it: 3-3-4 digits, "943 476 5919". Anything that is not ten digits
    is shown as it is."""
    digits = "".join(str(value or "").split())
    if len(digits) != 10 or not digits.isdigit():
        return value or ""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"

"""Small helpers for text that users read."""


def full_stop(sentence: str) -> str:
    """The sentence ended by one full stop; one that ends in initials ("for B.K.") has it already."""
    return sentence if sentence.endswith(".") else f"{sentence}."

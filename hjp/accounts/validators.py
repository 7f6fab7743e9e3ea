"""A password must not be built from its user's own name or the names of their organisations: those are the
first words an attacker who knows whom they target would try."""

import re
import unicodedata

from django.core.exceptions import ValidationError

from hjp.accounts.models import TITLES

# Digits and symbols written for the letters they look like (P4t3l, @sha): read as those letters.
LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i"}
)
LEET_ONE_AS_L = LEET | {ord("1"): "l"}
# Words too common in organisations' names to say anything about one.
COMMON_WORDS = frozenset({"the", "and", "for", "with"})


def _letters(text: str) -> str:
    """Lower case, accents dropped: "Zoë" -> "zoe"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_words(*names: str) -> set[str]:
    """The words of 3 or more letters in these names, without titles and the commonest words."""
    words = set()
    for name in names:
        for word in re.findall(r"[a-z]+", _letters(name)):
            if len(word) >= 3 and word not in TITLES and word not in COMMON_WORDS:
                words.add(word)
    return words


def _runs(password: str) -> set[str]:
    """The runs of letters in a password once look-alike digits and symbols are read as letters (a 1 is read
    as an i and, in a second reading, as an l)."""
    text = _letters(password)
    runs = set()
    for reading in (text.translate(LEET), text.translate(LEET_ONE_AS_L)):
        runs |= set(re.findall(r"[a-z]+", reading))
    return runs


def built_from(password: str, words: set[str]) -> bool:
    """Whether the password contains one of `words`. A word of 3 letters counts only at the start or end of a run
    of letters ("Ian" in "ian2026" or "SmithIan", not in "giant")."""
    runs = _runs(password)
    for word in words:
        for run in runs:
            if len(word) >= 4 and word in run:
                return True
            if len(word) == 3 and (run.startswith(word) or run.endswith(word)):
                return True
    return False


class NotYourNameValidator:
    """Refuses a password built from the user's full name or the name of an organisation or partnership they
    belong to (case, accents and look-alike digits or symbols do not hide them)."""

    message = (
        "Your password must not contain your name or the name of your organisation. "
        "Choose a few unrelated words instead."
    )

    def validate(self, password, user=None):
        if user is None:
            return
        names = [getattr(user, "full_name", "") or ""]
        if user.pk is not None:
            for organisation, partnership in user.memberships.values_list("organisation__name", "partnership__name"):
                names += [organisation or "", partnership or ""]
        if built_from(password, name_words(*names)):
            raise ValidationError(self.message, code="password_contains_name")

    def get_help_text(self):
        return "Your password must not contain your name or the name of your organisation."

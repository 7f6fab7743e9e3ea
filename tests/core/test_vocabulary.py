"""One vocabulary: templates compare states and choices with the TextChoices enums (given to every page by
the apps' `vocabulary` context processors, and to the status notice by its service), never with spelled
values, and every enum member they name exists (a misspelt one would silently compare false)."""

import re
from pathlib import Path

from django.conf import settings
from django.test import RequestFactory
from django.utils.module_loading import import_string

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# (A case timeline entry's "kind" is a label the selector gives, not a stored choice, so it is not here.)
STATE_FIELDS = r"(?:status|to_status|from_status|state|urgency|closure_reason|settlement|attendance|moment)"
SPELLED = re.compile(rf"\.{STATE_FIELDS}\s*(?:==|!=)\s*[\"']|[\"']\s*(?:==|!=)\s*\w+\.{STATE_FIELDS}\b")
NAMED = re.compile(r"\b([A-Z][A-Za-z]+)\.([A-Z][A-Z_]+)\b")


def _templates():
    return [path for path in TEMPLATES.rglob("*") if path.suffix in {".html", ".txt"}]


def _vocabulary() -> dict:
    names = {}
    for path in settings.TEMPLATES[0]["OPTIONS"]["context_processors"]:
        if path.endswith(".vocabulary"):
            names.update(import_string(path)(RequestFactory().get("/")))
    return names


def test_no_template_compares_a_state_with_a_spelled_value():
    spelled = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in _templates()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if SPELLED.search(line)
    ]
    assert spelled == []


def test_every_enum_member_a_template_names_exists():
    vocabulary = _vocabulary()
    named = {
        (path.relative_to(TEMPLATES), enum, member)
        for path in _templates()
        for enum, member in NAMED.findall(path.read_text())
        if enum in vocabulary or "Status" in enum
    }
    assert named, "the templates name enum members"
    unknown = [
        (str(path), enum, member)
        for path, enum, member in named
        if enum not in vocabulary or not hasattr(vocabulary[enum], member)
    ]
    assert unknown == []

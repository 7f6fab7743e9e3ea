"""The example referral Bundle of the README (docs/examples/referral-bundle.json), and changes to it."""

import copy
import json
from pathlib import Path

from django.conf import settings

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "referral-bundle.json"
PATIENT, CONSENT, SERVICE_REQUEST, TASK = range(4)


def example_bundle() -> dict:
    """The README's example, its hjp URLs those of this installation (SITE_URL)."""
    return json.loads(EXAMPLE.read_text().replace("http://127.0.0.1:8000", settings.SITE_URL))


def changed(bundle: dict, index: int, **fields) -> dict:
    """A copy with the resource of entry `index` given `fields` (None removes one)."""
    bundle = copy.deepcopy(bundle)
    resource = bundle["entry"][index]["resource"]
    for name, value in fields.items():
        if value is None:
            resource.pop(name, None)
        else:
            resource[name] = value
    return bundle

"""Snapshot tests for the text users read: the text is compared with a file committed under tests/snapshots/.

A missing or different snapshot fails the test, so CI never passes on a snapshot nobody reviewed. To write
(or rewrite) them after a deliberate change of wording, run the tests with UPDATE_SNAPSHOTS=1 and review the
diff of tests/snapshots/ before committing it."""

import os
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots"


def assert_matches_snapshot(text: str, name: str) -> None:
    """`text` is exactly the content of tests/snapshots/`name`.txt."""
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"No snapshot {path.name}: run with UPDATE_SNAPSHOTS=1, review it and commit it."
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"The text differs from the snapshot {path.name} (UPDATE_SNAPSHOTS=1 rewrites it)."


def message_text(message) -> str:
    """A message as its recipient reads it: the subject, a blank line, then the body."""
    return f"Subject: {message.subject}\n\n{message.body}"

"""What a browser sends with the forms it was given."""

import uuid


def once(data: dict | None = None, prefix: str = "") -> dict:
    """`data` with the fresh one-time token a create form carries when it is rendered
    (hjp.core.forms.SubmissionTokenMixin): each call is a new submission, the same dict sent twice is one."""
    key = f"{prefix}-submission_token" if prefix else "submission_token"
    return {**(data or {}), key: str(uuid.uuid4())}

"""The emails of one delivery batch say the same thing (the subject, the sign-in link and the sender are the same
for every message of a kind; only the address and the Message-ID differ), so Django composes the MIME form of the
first of them (`EmailMessage.message()`, which parses and folds every header with the `email` package's header
registry: most of the cost of an email, a few milliseconds each) and the others copy its headers and body with
their own To, Date and Message-ID. The bytes are those Django would have made (tests/notifications/test_mime.py
compares them); an email whose own headers would need parsing, encoding or folding (an address that is not a
plain ASCII one, a long line) is composed by Django in full, as is any email that differs from the first in
anything but those three headers."""

import copy
import email.message
import email.policy
import email.utils
import re
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

# Headers the email module reads back while it writes the email out: kept parsed, as Django made them, rather
# than parsed again for every email.
_READ_WHEN_WRITTEN = {"content-type", "content-transfer-encoding"}
# Values that every header class of `email.policy.default` stores and folds exactly as given.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
_PLAIN_MESSAGE_ID = re.compile(r"<[A-Za-z0-9._-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*>")


class SharedText:
    """What the emails of a batch share: per email policy (the console's, SMTP's), the MIME form Django made of
    the first email, and what that email said, so that only an email saying the same reuses it."""

    def __init__(self) -> None:
        self._templates: dict[email.policy.Policy, tuple[tuple, email.message.EmailMessage]] = {}

    def template(self, policy, said: tuple) -> email.message.EmailMessage | None:
        found = self._templates.get(policy)
        return found[1] if found and found[0] == said else None

    def keep(self, policy, said: tuple, message: email.message.EmailMessage) -> None:
        """Keep a copy of `message` whose headers are folded once, as plain strings, to be copied as they are;
        not if a folded line is too long (the email module would fold it again, maybe otherwise)."""
        if policy in self._templates:
            return
        headers = []
        for name, value in message.raw_items():
            if name.lower() in _READ_WHEN_WRITTEN:
                headers.append((name, value))
                continue
            folded = policy.fold(name, value).removeprefix(f"{name}: ").removesuffix(policy.linesep)
            lines = folded.split(policy.linesep)
            if not folded.isascii() or any(len(line) > (policy.max_line_length or 998) for line in lines):
                return
            headers.append((name, "\n".join(lines)))
        template = copy.copy(message)
        template._headers = headers
        self._templates[policy] = (said, template)


class BatchEmail(EmailMessage):
    """An email of a batch (one recipient, no attachments): its MIME form is a copy of the batch's first with its
    own To, Date and Message-ID, or Django's own where that would not be the same."""

    def __init__(self, *, shared: SharedText, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shared = shared

    def message(self, *, policy=email.policy.default):
        own = self._own_headers(policy)
        said = self._what_it_says()
        if own is None or said is None:
            return super().message(policy=policy)
        template = self._shared.template(policy, said)
        if template is None:
            made = super().message(policy=policy)
            self._shared.keep(policy, said, made)
            return made
        msg = copy.copy(template)  # shares the body (an immutable string) and the policy
        # A list of its own: the email module keeps the headers in `_headers`, (name, value) pairs in order, and
        # folds a value that is a plain string as it is (Message.set_raw stores the same).
        msg._headers = [(name, own.get(name.lower(), value)) for name, value in template.raw_items()]
        return msg

    def _what_it_says(self) -> tuple | None:
        if self.cc or self.bcc or self.reply_to or self.attachments or len(self.to) != 1:
            return None
        extra = {name.lower(): value for name, value in self.extra_headers.items()}
        if set(extra) - {"message-id"}:
            return None
        return (self.subject, self.body, self.from_email, self.content_subtype, self.encoding)

    def _own_headers(self, policy) -> dict[str, str] | None:
        """To, Date and Message-ID as Django would fold them, or None when they are not plain enough to tell."""
        address = str(self.to[0]) if len(self.to) == 1 else ""
        message_id = self.extra_headers.get("Message-ID", "")
        if not (_PLAIN_ADDRESS.fullmatch(address) and _PLAIN_MESSAGE_ID.fullmatch(message_id)):
            return None
        now = datetime.now(timezone.get_current_timezone() if settings.EMAIL_USE_LOCALTIME else UTC)
        own = {"to": address, "date": email.utils.format_datetime(now), "message-id": message_id}
        if any(len(name) + 2 + len(value) > (policy.max_line_length or 998) for name, value in own.items()):
            return None
        return own

"""The emails of one delivery batch say the same thing (the subject, the sign-in link and the sender are the same
for every message of a kind; only the address and the Message-ID differ), so Django composes the MIME form of the
first of them (`EmailMessage.message()`, which parses and folds every header with the `email` package's header
registry: most of the cost of an email, a few milliseconds each) and the others copy its headers and body with
their own To, Date and Message-ID. The bytes are those Django would have made (tests/notifications/test_mime.py
compares them); an email whose own headers would need parsing, encoding or folding (an address that is not a
plain ASCII one, a long line) is composed by Django in full, as is any email that differs from the first in
anything but those three headers. A worker process keeps the MIME forms it made (`SharedText`, a few, by what they
say), so a batch's first email is a copy too when an earlier batch said the same; and a copy is written out (the
backends' `as_bytes`) from the bytes its template's headers and body were written as once, with its own three
header lines, rather than by the email module's generator (which folds every header again)."""

import copy
import email.message
import email.policy
import email.utils
import re
import threading
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
    """What emails share: per email policy (the console's, SMTP's) and what an email said (its subject, body,
    sender...), the MIME form Django made of the first email that said it, so that only an email saying the same
    reuses it. At most `size` of them, the least recently used forgotten first."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._templates: dict[tuple[email.policy.Policy, tuple], email.message.EmailMessage] = {}
        self._lock = threading.Lock()  # (a threaded worker pool shares the process's)

    def __deepcopy__(self, memo) -> "SharedText":
        return self  # shared by the emails, not part of any (the locmem backend keeps deep copies of emails)

    def template(self, policy, said: tuple) -> email.message.EmailMessage | None:
        with self._lock:
            found = self._templates.pop((policy, said), None)
            if found is not None:
                self._templates[(policy, said)] = found  # now the most recently used
            return found

    def keep(self, policy, said: tuple, message: email.message.EmailMessage) -> None:
        """Keep a copy of `message` whose headers are folded once, as plain strings, to be copied as they are;
        not if a folded line is too long (the email module would fold it again, maybe otherwise)."""
        if (policy, said) in self._templates:
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
        template.__class__ = _Copy
        template._written = _written_form(template, policy)
        with self._lock:
            self._templates[(policy, said)] = template
            while len(self._templates) > self._size:
                del self._templates[next(iter(self._templates))]


class _Copy(email.message.EmailMessage):
    """A copy of a template: written out (`as_bytes`, as the console and SMTP backends do) from the bytes the
    template's headers and body were written as once, with its own To, Date and Message-ID lines; written by the
    email module as usual when asked otherwise, or when changed since it was made."""

    _written: tuple[list[bytes], bytes] | None = None
    _as_made: list | None = None

    def as_bytes(self, unixfrom=False, policy=None):
        written = self._written
        if (
            written is None
            or unixfrom
            or (policy is not None and policy is not self.policy)
            or self._headers != self._as_made
            or self._payload is not self._template_payload
        ):
            return super().as_bytes(unixfrom=unixfrom, policy=policy)
        lines, body = written
        own = self._own
        return (
            b"".join(
                self.policy.fold_binary(name, value) if name.lower() in own else line
                for (name, value), line in zip(self._headers, lines, strict=True)
            )
            + body
        )


def _written_form(template: email.message.EmailMessage, policy) -> tuple[list[bytes], bytes] | None:
    """Each header line of `template` as the email module writes it (`BytesGenerator`), and all that follows them;
    None when its output is not its headers as they are, then the body (it re-encodes an 8-bit body for 7-bit)."""
    lines = [policy.fold_binary(name, value) for name, value in template.raw_items()]
    whole = email.message.EmailMessage.as_bytes(template, policy=policy)
    headers = b"".join(lines)
    return (lines, whole[len(headers) :]) if whole.startswith(headers + policy.linesep.encode()) else None


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
        msg = copy.copy(template)  # shares the body (an immutable string), the policy and the written form
        # A list of its own: the email module keeps the headers in `_headers`, (name, value) pairs in order, and
        # folds a value that is a plain string as it is (Message.set_raw stores the same).
        msg._headers = [(name, own.get(name.lower(), value)) for name, value in template.raw_items()]
        msg._as_made, msg._own, msg._template_payload = list(msg._headers), own, template._payload
        return msg

    def _what_it_says(self) -> tuple | None:
        if self.cc or self.bcc or self.reply_to or self.attachments or len(self.to) != 1:
            return None
        extra = {name.lower(): value for name, value in self.extra_headers.items()}
        if set(extra) - {"message-id"}:
            return None
        return (
            self.subject,
            self.body,
            self.from_email,
            self.content_subtype,
            self.encoding or settings.DEFAULT_CHARSET,
        )

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

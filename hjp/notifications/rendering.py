"""Message text is written in templates, so its wording can be read and reviewed apart from the code that
decides when a message is sent: templates/messages/`name`.txt is the body and `name`_subject.txt the subject
(Django's convention for the password-reset email). tests/snapshots/ holds each message as rendered."""

from django.template import Context
from django.template.loader import get_template


def _render(template_name: str, context: dict) -> str:
    # Plain text, so no HTML escaping: an initial such as O'Neil stays as typed, and every page that shows a
    # message escapes it there.
    return get_template(template_name).template.render(Context(context, autoescape=False))


def render_message(name: str, **context) -> str:
    """The body: templates/messages/`name`.txt rendered with `context`. The newline that ends the file is
    not part of the text, so a message ends where its last line of wording ends."""
    return _render(f"messages/{name}.txt", context).removesuffix("\n")


def render_subject(name: str, **context) -> str:
    """The subject: templates/messages/`name`_subject.txt rendered with `context`, on one line."""
    return "".join(_render(f"messages/{name}_subject.txt", context).splitlines())

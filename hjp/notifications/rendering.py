"""Message text is written in templates (templates/messages/*.txt), so its wording can be read and reviewed
apart from the code that decides when a message is sent. tests/snapshots/ holds each message as rendered."""

from django.template import Context
from django.template.loader import get_template


def render_message(name: str, **context) -> str:
    """The plain text of templates/messages/`name`.txt, rendered with `context`.

    Rendered without HTML escaping: a message body is plain text (an initial such as O'Neil stays as typed),
    and every page that shows one escapes it there. The newline that ends the template file is not part of the
    text, so a message ends where its last line of wording ends."""
    template = get_template(f"messages/{name}.txt").template
    return template.render(Context(context, autoescape=False)).removesuffix("\n")

"""The form-page idiom every app shares: validate the form, call one service, and show the user what refused it.

Views render their own pages; what happens between a valid POST and the response is written once, here:
- the service ran: `Submission.saved`, with what it returned in `result`;
- the same form was sent before (its one-time token is used, `AlreadySubmitted`): nothing more is saved, the
  user is told so, and `resent` is set with what the first submission created in `result`;
- someone saved the record since the form was loaded (`StaleVersionError`): nothing is saved, the message goes
  on the form and the form's version moves on to the one saved now, so that saving again is the user's
  deliberate choice; `stale` holds the record as saved now;
- any other refusal (`DomainError`, or the model's own `ValidationError`): nothing is saved and the message goes
  on the form, on a field where `refusal_fields` names one for that kind of refusal; `refusal` holds it.
What the user typed is never lost: the bound form is rendered again with it."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError

from hjp.core.errors import DomainError
from hjp.core.submissions import AlreadySubmitted
from hjp.core.versioning import StaleVersionError


@dataclass(frozen=True)
class Submission:
    saved: bool = False
    resent: bool = False
    result: Any = None
    stale: StaleVersionError | None = None
    refusal: DomainError | ValidationError | None = None

    @property
    def done(self) -> bool:
        """The user may move on: their submission is saved, now or by the first of two sends."""
        return self.saved or self.resent


def submit_form(
    request,
    form: forms.BaseForm,
    perform: Callable[[dict], Any],
    *,
    refusal_fields: dict[type[DomainError], str] | None = None,
    resent_message: Callable[[Any], str] | None = None,
) -> Submission:
    """On a POST with a valid `form`, call `perform(form.cleaned_data)` (one service) and return what happened
    (see the module docstring). On a GET, or with errors in the form, return an unsaved Submission."""
    if request.method != "POST" or not form.is_valid():
        return Submission()
    try:
        result = perform(form.cleaned_data)
    except AlreadySubmitted as exc:
        messages.info(request, resent_message(exc.created) if resent_message else exc.message)
        return Submission(resent=True, result=exc.created)
    except StaleVersionError as exc:
        if "version" in form.fields:
            data = form.data.copy()
            data[form.add_prefix("version")] = exc.current.version
            form.data = data
        form.add_error(None, exc.message)
        return Submission(stale=exc, refusal=exc)
    except DomainError as exc:
        field = next((name for kind, name in (refusal_fields or {}).items() if isinstance(exc, kind)), None)
        form.add_error(field, exc.message)
        return Submission(refusal=exc)
    except ValidationError as exc:  # the model's own checks, run by the service on the whole row
        form.add_error(None, exc.messages)
        return Submission(refusal=exc)
    return Submission(saved=True, result=result)

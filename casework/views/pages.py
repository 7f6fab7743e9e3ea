"""The shapes casework pages share: reading a POST, auditing a view, and the form page that calls one
service and handles refusals and stale versions."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from casework import permissions, services
from casework.models import Case
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.dates import format_date_time
from hjp.core.errors import DomainError
from hjp.core.forms import error_summary
from hjp.core.submissions import AlreadySubmitted

Action = AuditEvent.Action
PAGE_SIZE = 25


def posted(request):
    """The submitted data, or None on GET: a POST of a form whose fields are all optional is still bound."""
    return request.POST if request.method == "POST" else None


def audit_page(request, action, *, obj=None, object_type="", summary=""):
    audit_record(actor=request.user, action=action, obj=obj, object_type=object_type, summary=summary)


def form_page(request, *, form, title, submit_label, perform: Callable, success: str, next_url: str | Callable,
               back_url: str, audit_obj, heading_obj, intro: str = "", danger: bool = False,
               current: Callable | None = None):
    """The shape every casework form page shares. GET shows the form; a valid POST calls `perform` (one
    service) and goes to `next_url` (or to `next_url(result)`). A refused action shows its message on the
    form. A stale version shows what is saved now (`current(case)`, as label/value pairs) beside the user's
    own input, with the form's version moved on so that saving again is a deliberate choice. A form sent
    twice (its one-time token already used) saves nothing more and goes where the first one went."""
    stale_values = None
    if request.method == "POST" and form.is_valid():
        try:
            result = perform(form.cleaned_data)
        except AlreadySubmitted as exc:
            messages.info(request, exc.message)
            if callable(next_url):
                return redirect(next_url(exc.created) if exc.created is not None else back_url)
            return redirect(next_url)
        except services.StaleCaseError as exc:
            data = form.data.copy()
            data[form.add_prefix("version")] = exc.current.version
            form.data = data
            form.add_error(None, exc.message)
            stale_values = current(exc.current) if current else []
        except DomainError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, success)
            return redirect(next_url(result) if callable(next_url) else next_url)
    audit_page(request, Action.VIEW, obj=audit_obj)
    return render(
        request,
        "casework/form_page.html",
        {"form": form, "errors": error_summary(form), "title": title, "submit_label": submit_label,
         "back_url": back_url, "heading_obj": heading_obj, "intro": intro, "danger": danger,
         "stale_values": stale_values, "multipart": form.is_multipart()},
        status=400 if request.method == "POST" else 200,
    )


def get_case(request, pk) -> Case:
    """The case for an advice worker of its organisation; 404 for anyone else and for a missing case. The view
    is gated with `@role_required(ADVICE_WORKERS)`."""
    return permissions.get_case_for_user(request.user, pk)


def case_form_page(request, case, form, **kwargs):
    """A form page about one case: back to the case, and there again after a successful save."""
    case_url = reverse("casework:case", args=[case.pk])
    kwargs.setdefault("next_url", case_url)
    return form_page(request, form=form, back_url=case_url, audit_obj=case, heading_obj=case, **kwargs)


def case_values(case: Case) -> list[tuple[str, str]]:
    """The case as saved now, for the panel a stale save shows."""
    case.refresh_from_db()
    return [("State", case.get_state_display()), ("Advisor", str(case.advisor)),
            ("Case status", case.referral.get_case_status_display() or "none"),
            ("Summary", case.summary or "none"),
            ("Last saved", format_date_time(case.updated_at))]


def versioned_form(request, case, form_class, initial=None, **kwargs):
    """An edit form carrying the case version it is loaded with."""
    return form_class(posted(request), initial={"version": case.version, **(initial or {})}, **kwargs)

"""The shapes casework pages share: reading a POST, auditing a view, and the form page that calls one
service and handles refusals and stale versions."""

from collections.abc import Callable

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from casework import permissions
from casework.models import Case
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.dates import format_date_time
from hjp.core.formpage import submit_form
from hjp.core.forms import error_summary

Action = AuditEvent.Action
PAGE_SIZE = 25


def posted(request):
    """The submitted data, or None on GET: a POST of a form whose fields are all optional is still bound."""
    return request.POST if request.method == "POST" else None


def audit_page(request, action, *, obj=None, object_type="", summary=""):
    audit_record(actor=request.user, action=action, obj=obj, object_type=object_type, summary=summary)


def form_page(
    request,
    *,
    form,
    title,
    submit_label,
    perform: Callable,
    success: str,
    next_url: str | Callable,
    back_url: str,
    audit_obj,
    heading_obj,
    intro: str = "",
    danger: bool = False,
    current: Callable | None = None,
):
    """A casework form page: GET shows the form; a POST goes through `hjp.core.formpage.submit_form` (one
    service, `perform`) and, once saved, goes to `next_url` (or to `next_url(result)`). A stale version also
    shows what is saved now (`current(record)`, as label/value pairs) beside the user's own input. A form sent
    twice goes where the first one went."""
    submission = submit_form(request, form, perform)
    if submission.saved:
        messages.success(request, success)
    if submission.done:
        if not callable(next_url):
            return redirect(next_url)
        if submission.resent and submission.result is None:  # a resend whose first save left nothing to open
            return redirect(back_url)
        return redirect(next_url(submission.result))
    stale_values = (current(submission.stale.current) if current else []) if submission.stale else None
    audit_page(request, Action.VIEW, obj=audit_obj)
    return render(
        request,
        "casework/form_page.html",
        {
            "form": form,
            "errors": error_summary(form),
            "title": title,
            "submit_label": submit_label,
            "back_url": back_url,
            "heading_obj": heading_obj,
            "intro": intro,
            "danger": danger,
            "stale_values": stale_values,
            "multipart": form.is_multipart(),
        },
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
    return [
        ("State", case.get_state_display()),
        ("Advisor", str(case.advisor)),
        ("Case status", case.referral.get_case_status_display() or "none"),
        ("Summary", case.summary or "none"),
        ("Last saved", format_date_time(case.updated_at)),
    ]


def versioned_form(request, case, form_class, initial=None, **kwargs):
    """An edit form carrying the case version it is loaded with."""
    return form_class(posted(request), initial={"version": case.version, **(initial or {})}, **kwargs)

"""Pages for what a case records: issues, appointments, deadlines, evidence requests, onward referrals."""

from django.http import Http404
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from casework import forms, permissions, selectors, services
from casework.models import CaseIssue, Deadline
from casework.views.pages import case_form_page, case_values, get_case, posted, versioned_form
from hjp.accounts.roles import ADVICE_WORKERS, role_required
from hjp.core.dates import format_date_time
from hjp.core.forms import ReasonForm
from hjp.core.lookups import get_visible_or_404


def _issue(case, item_pk) -> CaseIssue:
    return get_visible_or_404(case.issues.select_related("category", "sub_category"), item_pk, "No such issue.")


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def issue_add(request, pk):
    case = get_case(request, pk)
    form = forms.IssueForm(posted(request))
    return case_form_page(
        request,
        case,
        form,
        title="Add an issue",
        submit_label="Add issue",
        perform=lambda d: services.case_issue_add(
            case=case,
            actor=request.user,
            category=d["category"],
            sub_category=d["sub_category"],
            description=d["description"],
            submission_token=form.submission_token,
        ),
        success="Issue added.",
    )


def _issue_values(issue):
    def values(get_case):
        issue.refresh_from_db()
        return [
            ("Category", str(issue.category)),
            ("Sub-category", str(issue.sub_category or "none")),
            ("Description", issue.description or "none"),
            ("Status", issue.get_status_display()),
            ("Resolution", issue.resolution or "none"),
        ]

    return values


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def issue_edit(request, pk, item_pk):
    case = get_case(request, pk)
    issue = _issue(case, item_pk)
    form = versioned_form(
        request,
        case,
        forms.IssueEditForm,
        initial={"category": issue.category_id, "sub_category": issue.sub_category, "description": issue.description},
    )
    return case_form_page(
        request,
        case,
        form,
        title="Edit issue",
        submit_label="Save issue",
        current=_issue_values(issue),
        perform=lambda d: services.case_issue_update(
            issue=issue,
            actor=request.user,
            version=d["version"],
            category=d["category"],
            sub_category=d["sub_category"],
            description=d["description"],
        ),
        success="Issue saved.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def issue_resolve(request, pk, item_pk):
    case = get_case(request, pk)
    issue = _issue(case, item_pk)
    return case_form_page(
        request,
        case,
        versioned_form(request, case, forms.ResolveIssueForm),
        title=f"Resolve issue: {issue}",
        submit_label="Mark resolved",
        current=_issue_values(issue),
        perform=lambda d: services.case_issue_resolve(
            issue=issue, actor=request.user, version=d["version"], resolution=d["resolution"]
        ),
        success="Issue resolved.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def appointment_add(request, pk):
    case = get_case(request, pk)
    form = forms.AppointmentForm(posted(request))
    return case_form_page(
        request,
        case,
        form,
        title="Book an appointment",
        submit_label="Book",
        perform=lambda d: services.appointment_book(
            case=case,
            actor=request.user,
            kind=d["kind"],
            starts_at=d["starts_at"],
            duration_minutes=d["duration_minutes"],
            place=d["place"],
            note=d["note"],
            submission_token=form.submission_token,
        ),
        success="Appointment booked.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def appointment_edit(request, pk, item_pk):
    case = get_case(request, pk)
    appointment = get_visible_or_404(case.appointments.all(), item_pk, "No such appointment.")
    form = versioned_form(
        request,
        case,
        forms.AppointmentEditForm,
        initial={
            name: getattr(appointment, name)
            for name in ("kind", "starts_at", "duration_minutes", "place", "note", "attendance")
        },
    )

    def current(get_case):
        appointment.refresh_from_db()
        return [
            ("When", format_date_time(appointment.starts_at)),
            ("Type", appointment.get_kind_display()),
            ("Place", appointment.place or "none"),
            ("Attendance", appointment.get_attendance_display()),
        ]

    return case_form_page(
        request,
        case,
        form,
        title="Appointment",
        submit_label="Save appointment",
        current=current,
        perform=lambda d: services.appointment_update(
            appointment=appointment,
            actor=request.user,
            version=d["version"],
            kind=d["kind"],
            starts_at=d["starts_at"],
            duration_minutes=d["duration_minutes"],
            place=d["place"],
            attendance=d["attendance"],
            note=d["note"],
        ),
        success="Appointment saved.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def deadline_add(request, pk):
    case = get_case(request, pk)
    form = forms.DeadlineForm(
        posted(request),
        issues=case.issues.select_related("category", "sub_category"),
        initial={"kind": request.GET.get("kind", Deadline.Kind.TASK)},
    )
    return case_form_page(
        request,
        case,
        form,
        title="Add a deadline or task",
        submit_label="Add",
        perform=lambda d: services.deadline_add(
            case=case,
            actor=request.user,
            kind=d["kind"],
            title=d["title"],
            basis_date=d["basis_date"],
            due_date=d["due_date"],
            issue=d["issue"],
            submission_token=form.submission_token,
        ),
        success="Deadline added.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def deadline_done(request, pk, item_pk):
    case = get_case(request, pk)
    deadline = get_visible_or_404(case.deadlines.all(), item_pk, "No such deadline.")
    return case_form_page(
        request,
        case,
        versioned_form(request, case, forms.DeadlineDoneForm),
        title=f"Mark done: {deadline}",
        submit_label="Mark done",
        current=case_values,
        perform=lambda d: services.deadline_complete(deadline=deadline, actor=request.user, version=d["version"]),
        success="Marked done.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def evidence_add(request, pk):
    case = get_case(request, pk)
    form = forms.EvidenceRequestForm(
        posted(request), initial={"due_date": timezone.localdate() + timezone.timedelta(days=14)}
    )
    referrer = case.referral.referrer
    return case_form_page(
        request,
        case,
        form,
        title="Request medical evidence",
        submit_label="Send request",
        intro=f"The request goes to the referrer, {referrer.full_name}, who can answer with text or a document.",
        perform=lambda d: services.evidence_request_create(
            case=case,
            actor=request.user,
            what_is_needed=d["what_is_needed"],
            due_date=d["due_date"],
            submission_token=form.submission_token,
        ),
        success="Evidence requested.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def onward_add(request, pk):
    case = get_case(request, pk)
    providers = selectors.advice_providers(user=request.user, active_only=True).filter(
        advice_organisation_id=case.referral.advice_organisation_id
    )
    form = forms.OnwardReferralForm(
        posted(request), providers=providers, issues=case.issues.select_related("category", "sub_category")
    )
    return case_form_page(
        request,
        case,
        form,
        title="Refer on to another provider",
        submit_label="Record onward referral",
        perform=lambda d: services.onward_referral_make(
            case=case,
            actor=request.user,
            provider=d["provider"],
            issue=d["issue"],
            note=d["note"],
            share=form.share_consent(),
            submission_token=form.submission_token,
        ),
        success="Onward referral recorded.",
    )


ENTERED_IN_ERROR_INTRO = (
    "It stays on the case's timeline, struck through, with your name and reason: nothing is deleted."
)


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def note_entered_in_error(request, pk, item_pk):
    case = get_case(request, pk)
    note = get_visible_or_404(case.notes.all(), item_pk, "No such note.")
    if not permissions.can_mark_entered_in_error(request.user, note, case):
        raise Http404("Only the note's author or a supervisor can mark it.")
    form = ReasonForm(
        posted(request), label="Why it was entered in error", required_message="Say why it was entered in error."
    )
    return case_form_page(
        request,
        case,
        form,
        title="Mark a note as entered in error",
        submit_label="Mark as entered in error",
        danger=True,
        intro=ENTERED_IN_ERROR_INTRO,
        perform=lambda d: services.case_note_mark_entered_in_error(note=note, actor=request.user, reason=d["reason"]),
        success="Note marked as entered in error.",
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def appointment_entered_in_error(request, pk, item_pk):
    case = get_case(request, pk)
    appointment = get_visible_or_404(case.appointments.all(), item_pk, "No such appointment.")
    if not permissions.can_mark_entered_in_error(request.user, appointment, case):
        raise Http404("Only whoever booked the appointment or a supervisor can mark it.")
    form = versioned_form(
        request,
        case,
        forms.VersionedReasonForm,
        label="Why it was booked in error",
        required_message="Say why it was booked in error.",
    )
    return case_form_page(
        request,
        case,
        form,
        title=f"Mark an appointment as booked in error: {format_date_time(appointment.starts_at)}",
        submit_label="Mark as booked in error",
        danger=True,
        intro=ENTERED_IN_ERROR_INTRO,
        current=case_values,
        perform=lambda d: services.appointment_mark_entered_in_error(
            appointment=appointment, actor=request.user, version=d["version"], reason=d["reason"]
        ),
        success="Appointment marked as booked in error.",
    )

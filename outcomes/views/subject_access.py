"""Subject access: the data protection role finds a patient (POST: the terms never go in a URL) and downloads
everything held about them as one zip; it and the advice organisation's supervisors see who has looked at the
patient's record. Everyone else gets 404, as for a page that does not exist."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.forms import error_summary
from hjp.core.pagination import CURSOR_PARAMS, keyset_page
from hjp.core.search import page_query
from outcomes import permissions
from outcomes.forms import SubjectAccessSearchForm, WhoLookedForm
from outcomes.selectors import subject_access as selectors
from outcomes.subject_access import export_file_name, subject_access_export
from referrals.models import Patient

NOT_FOUND = "No such page."
WHO_LOOKED_PAGE_SIZE = 50


def _subject_patient_or_404(pk) -> Patient:
    try:
        return selectors.subject_patient(pk)
    except (Patient.DoesNotExist, ValueError):
        raise Http404(NOT_FOUND) from None


def _require_subject_access_role(request) -> None:
    if not permissions.has_subject_access_role(request.user):
        raise Http404(NOT_FOUND)


def subject_access_search(request):
    _require_subject_access_role(request)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    form = SubjectAccessSearchForm(request.POST if request.method == "POST" else None)
    results = None
    if form.is_bound and form.is_valid():
        results = list(selectors.patients_matching(**form.cleaned_data))
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.LIST,
            object_type="referrals.patient",
            summary=f"subject access search: {len(results)} found",
        )
    return render(
        request,
        "outcomes/subject_access_search.html",
        {"form": form, "errors": error_summary(form), "results": results},
    )


def subject_access_export_view(request, patient_pk):
    _require_subject_access_role(request)
    return _export(request, patient_pk)


@require_POST
def _export(request, patient_pk):
    patient = _subject_patient_or_404(patient_pk)
    content = subject_access_export(patient=patient, actor=request.user)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export_file_name(patient)}"'
    return response


@require_http_methods(["GET"])
def who_looked(request, patient_pk):
    patient = _subject_patient_or_404(patient_pk)
    if not permissions.can_see_who_looked(request.user, patient):
        raise Http404(NOT_FOUND)
    form = WhoLookedForm(request.GET if request.GET.keys() - set(CURSOR_PARAMS) else None)
    audit_record(actor=request.user, action=AuditEvent.Action.VIEW, obj=patient, summary="who has looked")
    page = None
    if not form.is_bound or form.is_valid():
        dates = form.cleaned_data if form.is_bound else {}
        entries = selectors.who_looked(patient, since=dates.get("since"), until=dates.get("until"))
        page = keyset_page(request, entries, per_page=WHO_LOOKED_PAGE_SIZE, query=page_query(request))
    return render(
        request,
        "outcomes/who_looked.html",
        {
            "patient": patient,
            "form": form,
            "errors": error_summary(form),
            "page": page,
            "is_dpo": permissions.has_subject_access_role(request.user),
        },
    )

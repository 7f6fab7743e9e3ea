"""The advisor's day and the caseload."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from casework import forms, selectors
from casework.views.pages import PAGE_SIZE, audit_page
from hjp.accounts.roles import ADVICE_WORKERS, role_required, roles_for
from hjp.audit.models import AuditEvent
from hjp.core.pagination import keyset_page
from hjp.core.search import page_query, search_filters, search_redirect

Action = AuditEvent.Action


# Each "See all" list of the advisor's day: its title, its rows (a selector) and what it lists, for the audit.
TODAY_LISTS = {
    "appointments": ("Appointments this week", selectors.home_appointments, "casework.appointment"),
    "deadlines": ("Deadlines due or overdue", selectors.home_deadlines, "casework.deadline"),
    "evidence": ("Evidence replies received", selectors.home_evidence_answers, "casework.evidencerequest"),
}


@role_required(ADVICE_WORKERS, message="No casework here.")
def home(request):
    data = selectors.advisor_home(user=request.user)
    audit_page(request, Action.LIST, object_type="casework.case", summary="advisor home")
    return render(
        request,
        "casework/home.html",
        {"home": data, "today": timezone.localdate(), "section_length": selectors.HOME_SECTION_LENGTH},
    )


@role_required(ADVICE_WORKERS, message="No casework here.")
def today_list(request, section):
    """One section of the advisor's day in full, a page at a time."""
    if section not in TODAY_LISTS:
        raise Http404("No such list.")
    title, rows, object_type = TODAY_LISTS[section]
    page = keyset_page(request, rows(user=request.user), per_page=PAGE_SIZE)
    audit_page(request, Action.LIST, object_type=object_type, summary=f"advisor home: {section} page {page.number}")
    return render(request, "casework/today_list.html", {"page": page, "title": title, "section": section})


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, message="No casework here.")
def caseload(request):
    if request.method == "POST":  # a search: its text goes to the session, never into the URL
        return search_redirect(request)
    user = request.user
    is_supervisor = bool(roles_for(user).supervisor_org_ids)
    form = forms.CaseFilterForm(
        search_filters(request), advisors=selectors.advisor_choices(user=user), is_supervisor=is_supervisor
    )
    filters = selectors.CaseFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.CaseFilters(
            scope=data.get("scope") or "mine",
            state=data["state"],
            category=data["category"].pk if data["category"] else None,
            advisor=data["advisor"].pk if data.get("advisor") else None,
            due_this_week=data["due_this_week"],
            evidence_outstanding=data["evidence_outstanding"],
            q=data["q"],
            sort=data["sort"] or "next_deadline",
        )
    page = keyset_page(
        request, selectors.case_list(user=user, filters=filters), per_page=PAGE_SIZE, query=page_query(request)
    )
    audit_page(
        request, Action.LIST, object_type="casework.case", summary=f"caseload {filters.scope} page {page.number}"
    )
    return render(
        request,
        "casework/caseload.html",
        {
            "page": page,
            "filters": form,
            "scope": filters.scope,
            "counts": selectors.case_state_counts(user=user, scope=filters.scope),
            "per_advisor": selectors.open_cases_per_advisor(user=user) if filters.scope == "organisation" else [],
            "today": timezone.localdate(),
        },
    )

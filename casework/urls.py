from django.urls import path

from casework.views import case, caseload, evidence, handovers, providers, records, triage

app_name = "casework"

urlpatterns = [
    path("", caseload.home, name="home"),
    path("today/<slug:section>/", caseload.today_list, name="today_list"),
    path("triage/", triage.triage, name="triage"),
    path("triage/<int:pk>/accept/", triage.triage_accept, name="accept"),
    path("triage/<int:pk>/decline/", triage.triage_decline, name="decline"),
    path("triage/<int:pk>/redirect/", triage.triage_redirect, name="redirect"),
    path("cases/", caseload.caseload, name="caseload"),
    path("cases/<int:pk>/", case.case_detail, name="case"),
    path("cases/<int:pk>/edit/", case.case_edit, name="case_edit"),
    path("cases/<int:pk>/reallocate/", case.case_reallocate, name="reallocate"),
    path("cases/<int:pk>/reopen/", case.case_reopen, name="reopen"),
    path("cases/<int:pk>/withdraw-consent/", case.case_withdraw_consent, name="withdraw_consent"),
    path("cases/<int:pk>/notes/new/", case.note_add, name="note_add"),
    path(
        "cases/<int:pk>/notes/<int:item_pk>/entered-in-error/",
        records.note_entered_in_error,
        name="note_entered_in_error",
    ),
    path("cases/<int:pk>/issues/new/", records.issue_add, name="issue_add"),
    path("cases/<int:pk>/issues/<int:item_pk>/", records.issue_edit, name="issue_edit"),
    path("cases/<int:pk>/issues/<int:item_pk>/resolve/", records.issue_resolve, name="issue_resolve"),
    path("cases/<int:pk>/appointments/new/", records.appointment_add, name="appointment_add"),
    path("cases/<int:pk>/appointments/<int:item_pk>/", records.appointment_edit, name="appointment_edit"),
    path(
        "cases/<int:pk>/appointments/<int:item_pk>/entered-in-error/",
        records.appointment_entered_in_error,
        name="appointment_entered_in_error",
    ),
    path("cases/<int:pk>/deadlines/new/", records.deadline_add, name="deadline_add"),
    path("cases/<int:pk>/deadlines/<int:item_pk>/done/", records.deadline_done, name="deadline_done"),
    path("cases/<int:pk>/evidence/new/", records.evidence_add, name="evidence_add"),
    path("cases/<int:pk>/onward/new/", records.onward_add, name="onward_add"),
    path("evidence/", evidence.evidence_list, name="evidence_list"),
    path("evidence/<int:pk>/", evidence.evidence_detail, name="evidence_detail"),
    path("evidence/<int:pk>/document/", evidence.evidence_file, name="evidence_file"),
    path("providers/", providers.providers, name="providers"),
    path("providers/new/", providers.provider_form, name="provider_add"),
    path("providers/<int:pk>/", providers.provider_form, name="provider_edit"),
    path("providers/import/", providers.provider_import, name="provider_import"),
    path("handovers/<int:pk>/", handovers.handover_detail, name="handover"),
    path("handovers/<int:pk>/accept/", handovers.handover_accept, name="handover_accept"),
    path("handovers/<int:pk>/decline/", handovers.handover_decline, name="handover_decline"),
    path("handovers/<int:pk>/close/", handovers.handover_close, name="handover_close"),
    path("handovers/<int:pk>/link/", handovers.handover_link, name="handover_link"),
    # The partner outside hjp: no sign-in, the signed single-use token is the key.
    path("shared/<str:token>/", handovers.handover_download, name="handover_download"),
    path("shared/<str:token>/download/", handovers.handover_download_file, name="handover_download_file"),
]

from django.urls import path

from outcomes.staff_survey import views as staff_survey
from outcomes.views import (
    case,
    case_studies,
    corrections,
    dashboard,
    engagement,
    patient_voice,
    referrer,
    report,
    report_pdf,
    subject_access,
)

app_name = "outcomes"

urlpatterns = [
    # Managers and funders: aggregates only.
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("funder-report/", report.funder_report, name="funder_report"),
    path("funder-report.csv", report.funder_report_csv, name="funder_report_csv"),
    # Leads (managers, supervisors) for their partnerships, practice champions for their organisation.
    path("engagement/", engagement.engagement_view, name="engagement"),
    path("funder-report.pdf", report_pdf.funder_report_pdf, name="funder_report_pdf"),
    # Referrers: what the advice achieved for their referral, when the patient agreed to share it.
    path("referrals/<int:referral_pk>/", referrer.referral_outcome, name="referral_outcome"),
    # Referrers rate the service after an outcome report in their inbox; the advice service reads the results.
    path("staff-survey/<int:message_pk>/", staff_survey.staff_survey, name="staff_survey"),
    path("staff-survey/", staff_survey.staff_survey_results, name="staff_survey_results"),
    # Advisors: outcomes on a case, and closing it.
    path("cases/<int:case_pk>/", case.case_outcomes, name="case_outcomes"),
    path("cases/<int:case_pk>/financial/", case.financial_add, name="financial_add"),
    path("cases/<int:case_pk>/decision/", case.decision_add, name="decision_add"),
    path("cases/<int:case_pk>/non-financial/", case.non_financial_add, name="non_financial_add"),
    path("cases/<int:case_pk>/wellbeing/<str:moment>/", case.wellbeing_record, name="wellbeing_record"),
    path("cases/<int:case_pk>/close/", case.case_close, name="case_close"),
    # Advisors: the patient's agreement to their own link, and sending it.
    path("cases/<int:case_pk>/patient-voice/", patient_voice.case_patient_voice, name="patient_voice"),
    path(
        "cases/<int:case_pk>/patient-voice/agreement/",
        patient_voice.patient_voice_agreement,
        name="patient_voice_agreement",
    ),
    path("cases/<int:case_pk>/patient-voice/send/", patient_voice.patient_link_send, name="patient_link_send"),
    # Advisors while the case is open, supervisors after: correcting a recorded outcome.
    path("cases/<int:case_pk>/<str:kind>/<int:pk>/correct/", corrections.outcome_edit, name="outcome_edit"),
    path(
        "cases/<int:case_pk>/<str:kind>/<int:pk>/entered-in-error/",
        corrections.outcome_entered_in_error,
        name="outcome_entered_in_error",
    ),
    # Case studies: advisors write (with the patient's agreement), supervisors review, managers include them in the
    # funder report (outcomes.permissions).
    path("case-studies/", case_studies.case_studies, name="case_studies"),
    path("case-studies/<int:pk>/", case_studies.case_study, name="case_study"),
    path("cases/<int:case_pk>/case-study/", case_studies.case_study_add, name="case_study_add"),
    path("case-studies/<int:pk>/change/", case_studies.case_study_revise, name="case_study_revise"),
    path("case-studies/<int:pk>/review/", case_studies.case_study_review, name="case_study_review"),
    path("case-studies/<int:pk>/withdraw/", case_studies.case_study_withdraw, name="case_study_withdraw"),
    path("case-studies/<int:pk>/include/", case_studies.case_study_include, name="case_study_include"),
    # Subject access: the data protection role (permission referrals.subject_access); who looked, also the
    # supervisors of the advice organisation the patient was referred to.
    path("subject-access/", subject_access.subject_access_search, name="subject_access"),
    path(
        "subject-access/patients/<int:patient_pk>/export/",
        subject_access.subject_access_export_view,
        name="subject_access_export",
    ),
    path("patients/<int:patient_pk>/who-looked/", subject_access.who_looked, name="who_looked"),
]

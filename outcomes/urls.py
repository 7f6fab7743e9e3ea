from django.urls import path

from outcomes import case_views, views

app_name = "outcomes"

urlpatterns = [
    # Managers and funders: aggregates only.
    path("dashboard/", views.dashboard, name="dashboard"),
    path("funder-report/", views.funder_report, name="funder_report"),
    path("funder-report.csv", views.funder_report_csv, name="funder_report_csv"),
    # Advisors: outcomes on a case, and closing it.
    path("cases/<int:case_pk>/", case_views.case_outcomes, name="case_outcomes"),
    path("cases/<int:case_pk>/financial/", case_views.financial_add, name="financial_add"),
    path("cases/<int:case_pk>/decision/", case_views.decision_add, name="decision_add"),
    path("cases/<int:case_pk>/non-financial/", case_views.non_financial_add, name="non_financial_add"),
    path("cases/<int:case_pk>/wellbeing/<str:moment>/", case_views.wellbeing_record, name="wellbeing_record"),
    path("cases/<int:case_pk>/close/", case_views.case_close, name="case_close"),
]

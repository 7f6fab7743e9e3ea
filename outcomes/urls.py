from django.urls import path

from outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("funder-report/", views.funder_report, name="funder_report"),
]

from django.urls import path, re_path

from api.fhir import views

app_name = "fhir"

urlpatterns = [
    path("", views.Transaction.as_view(), name="transaction"),
    path("metadata", views.Metadata.as_view(), name="metadata"),
    path("CodeSystem/<str:name>", views.CodeSystemRead.as_view(), name="code_system"),
    path("StructureDefinition/<str:name>", views.StructureDefinitionRead.as_view(), name="structure_definition"),
    path("Task", views.TaskSearch.as_view(), name="task_search"),
    path("Task/<str:pk>/$redirect", views.TaskRedirect.as_view(), name="task_redirect"),
    path("Task/<str:pk>", views.TaskInstance.as_view(), name="task"),
    path("ServiceRequest/<str:pk>", views.ServiceRequestRead.as_view(), name="service_request"),
    path("Consent/<str:pk>", views.ConsentRead.as_view(), name="consent"),
    path("Patient/<str:pk>", views.PatientRead.as_view(), name="patient"),
    path("Organization", views.OrganizationSearch.as_view(), name="organization_search"),
    path("Organization/<str:pk>", views.OrganizationRead.as_view(), name="organization"),
    path("Subscription", views.SubscriptionCollection.as_view(), name="subscriptions"),
    path("Subscription/<str:pk>", views.SubscriptionInstance.as_view(), name="subscription"),
    re_path(r"^(?P<rest>.+)$", views.Unknown.as_view(), name="unknown"),
]

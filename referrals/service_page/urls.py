from django.urls import path

from referrals.service_page import views

# Included in referrals/urls.py, under the referrals namespace.
urlpatterns = [
    path("service/", views.service_page_list, name="service_page_list"),
    path("service/<int:pk>/", views.service_page, name="service_page"),
    path("service/<int:pk>/edit/", views.service_page_edit, name="service_page_edit"),
]

from django.urls import path

from referrals.clinics import views

# Included in referrals/urls.py, under the referrals namespace.
urlpatterns = [
    path("clinics/", views.clinic_list, name="clinic_list"),
    path("clinics/new/", views.clinic_add, name="clinic_add"),
    path("clinics/<int:pk>/", views.clinic_detail, name="clinic_detail"),
    path("clinics/<int:pk>/cancel/", views.clinic_cancel, name="clinic_cancel"),
    path("<int:pk>/clinic-booking/", views.booking_add, name="booking_add"),
    path("clinic-bookings/<int:pk>/change/", views.booking_change, name="booking_change"),
    path("clinic-bookings/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
]

from django.urls import path

from referrals import views
from referrals.clinics.urls import urlpatterns as clinic_urlpatterns
from referrals.service_page.urls import urlpatterns as service_page_urlpatterns

app_name = "referrals"

urlpatterns = [
    path("home/", views.referrer_home, name="home"),
    path("", views.referral_list, name="list"),
    path("new/", views.referral_form, name="create"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/edit/", views.referral_form, name="edit"),
    path("<int:pk>/cancel/", views.referral_cancel, name="cancel"),
    path("<int:pk>/entered-in-error/", views.referral_entered_in_error, name="entered_in_error"),
    path("<int:pk>/withdraw-consent/", views.consent_withdraw, name="withdraw_consent"),
    path("<int:pk>/consent/", views.consent_scope_change, name="consent_change"),
    path("<int:pk>/messages/", views.thread, name="thread"),
    path("<int:pk>/messages/<int:message_pk>/document/", views.thread_attachment, name="thread_attachment"),
    *clinic_urlpatterns,
    *service_page_urlpatterns,
]

from django.urls import path

from hjp.accounts import views

app_name = "accounts"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("security/", views.security, name="security"),
    path("security/set-up/", views.enrol, name="enrol"),
    path("security/authenticator/", views.totp_add, name="totp_add"),
    path("security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("security/recovery-codes/new/", views.recovery_codes_regenerate, name="recovery_codes_regenerate"),
    path("security/devices/<slug:kind>/<int:pk>/remove/", views.device_remove, name="device_remove"),
    path("people/", views.people, name="people"),
    path("people/<int:pk>/reset-sign-in/", views.reset_second_factors, name="reset_second_factors"),
]

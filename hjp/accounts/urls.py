from django.urls import path

from hjp.accounts import views

app_name = "accounts"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("security/", views.security, name="security"),
    path("security/set-up/", views.enrol, name="enrol"),
    path("security/authenticator/", views.totp_add, name="totp_add"),
    path("security/passkey/", views.passkey_add, name="passkey_add"),
    # The browser's passkey ceremonies (JSON, POST only): making one, and the second step with one.
    path("passkeys/register/begin/", views.PasskeyRegisterBegin.as_view(), name="passkey_register_begin"),
    path("passkeys/register/complete/", views.PasskeyRegisterComplete.as_view(), name="passkey_register_complete"),
    path("passkeys/verify/begin/", views.PasskeyAuthBegin.as_view(), name="passkey_auth_begin"),
    path("passkeys/verify/complete/", views.PasskeyAuthComplete.as_view(), name="passkey_auth_complete"),
    path("security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("security/recovery-codes/new/", views.recovery_codes_regenerate, name="recovery_codes_regenerate"),
    path("security/devices/<slug:kind>/<int:pk>/remove/", views.device_remove, name="device_remove"),
    path("people/", views.people, name="people"),
    path("people/<int:pk>/reset-sign-in/", views.reset_second_factors, name="reset_second_factors"),
]

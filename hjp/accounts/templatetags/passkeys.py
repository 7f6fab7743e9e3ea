"""The passkey pages' configuration for django-otp-webauthn's scripts: a JSON data block (not a script a
Content Security Policy has to allow) naming hjp's ceremony endpoints rather than the package's own."""

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import json_script

register = template.Library()


@register.simple_tag(takes_context=True)
def passkey_config(context):
    request = context["request"]
    return json_script(
        {
            "autocompleteLoginFieldSelector": None,  # no passwordless sign-in
            "nextFieldSelector": "input[name='next']",
            "csrfToken": get_token(request),
            "beginAuthenticationUrl": reverse("accounts:passkey_auth_begin"),
            "completeAuthenticationUrl": reverse("accounts:passkey_auth_complete"),
            "beginRegistrationUrl": reverse("accounts:passkey_register_begin"),
            "completeRegistrationUrl": reverse("accounts:passkey_register_complete"),
        },
        "otp_webauthn_config",
    )

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
        error_messages={"required": "Enter your email address"},
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email address and password do not match an account. Check both and try again.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].error_messages["required"] = "Enter your password"


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
    )


CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "class": "input-width-10",
    "spellcheck": "false",
}


class SecondFactorCodeForm(forms.Form):
    """A code for one kind of second factor at the second step. `kind` says which form of the page was sent;
    `device` which authenticator, where the user has more than one."""

    kind = forms.CharField(widget=forms.HiddenInput)
    device = forms.TypedChoiceField(coerce=int, required=False, label="Which authenticator")
    code = forms.CharField(max_length=32, strip=True)

    def __init__(self, *args, kind, devices=(), label="Code", hint="", required_message="Enter the code", **kwargs):
        super().__init__(*args, initial={"kind": kind.key}, prefix=kind.key, **kwargs)
        self.fields["code"].label = label
        self.fields["code"].help_text = hint
        self.fields["code"].error_messages["required"] = required_message
        self.fields["code"].widget.attrs.update(
            CODE_ATTRS if kind.primary else {**CODE_ATTRS, "autocomplete": "off", "inputmode": "text"}
        )
        if len(devices) > 1:
            self.fields["device"].choices = [(device.pk, device.name) for device in devices]
            self.fields["device"].required = True
            self.fields["device"].widget = forms.RadioSelect(choices=self.fields["device"].choices)
            self.fields["device"].initial = devices[0].pk
        else:
            del self.fields["device"]


class AuthenticatorConfirmForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        help_text="The 6-digit code the app shows now for hjp.",
        max_length=12,
        error_messages={"required": "Enter the 6-digit code the app shows"},
        widget=forms.TextInput(attrs=CODE_ATTRS),
    )
    name = forms.CharField(
        label="Name for this authenticator",
        help_text="So you can tell it apart later, for example 'Work phone'.",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"class": "input-width-20"}),
    )


class PasskeyNameForm(forms.Form):
    """The passkey page's form: a name, and the passkey the browser has just made (filled in by
    static/js/passkeys.js once the browser's ceremony is done)."""

    name = forms.CharField(
        label="Name for this passkey",
        help_text="So you can tell it apart later, for example 'Work laptop' or 'Blue security key'.",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"class": "input-width-20"}),
    )
    credential = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "Create the passkey first: press 'Create a passkey' and follow what your browser asks",
            "invalid": "Create the passkey first: press 'Create a passkey' and follow what your browser asks",
        },
    )

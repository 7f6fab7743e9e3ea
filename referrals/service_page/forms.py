from django import forms

from hjp.core.forms import VersionMixin
from referrals.service_page.models import ServicePage
from referrals.service_page.services import FIELDS


class ServicePageForm(VersionMixin, forms.ModelForm):
    """The page's texts; plain text, shown with its line breaks (no HTML)."""

    class Meta:
        model = ServicePage
        fields = FIELDS
        widgets = {name: forms.Textarea(attrs={"rows": 5}) for name in FIELDS}
        error_messages = {
            "helps_with": {"required": "Enter what the service helps with"},
            "eligibility": {"required": "Enter who can be referred"},
            "how_to_refer": {"required": "Enter how to refer"},
            "contacts": {"required": "Enter who referrers can contact"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No version: the form was loaded before the page was first written. The service then refuses it, with
        # its stale-page message, if someone has written the page since.
        self.fields["version"].required = False

    def clean(self):
        cleaned = super().clean()
        for name in FIELDS:
            text = cleaned.get(name) or ""
            if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
                self.add_error(name, "Remove the control characters pasted into this text")
        return cleaned

from django import forms
from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.forms import error_summary
from hjp.core.pagination import keyset_page
from hjp.notifications import selectors, services
from hjp.notifications.models import CHOOSABLE_KINDS, NotificationPreference


def inbox(request):
    page = keyset_page(request, selectors.inbox(user=request.user), per_page=25)
    selectors.with_patient_labels(user=request.user, messages=page.object_list)
    # The page names patients (initials and date of birth): a list of patient data, so it is audited.
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.LIST,
        object_type="notifications.message",
        summary=f"inbox page {page.number}",
    )
    return render(request, "notifications/inbox.html", {"page": page})


def message_detail(request, pk):
    message = selectors.get_message_for_user(user=request.user, pk=pk)
    selectors.with_patient_labels(user=request.user, messages=[message])
    services.message_mark_read(message=message, user=request.user)
    audit_record(actor=request.user, action=AuditEvent.Action.VIEW, obj=message)
    safe_url = ""
    if not message.withheld and url_has_allowed_host_and_scheme(message.url, allowed_hosts=None):
        safe_url = message.url
    follow_up = selectors.follow_up_of(user=request.user, message=message)
    return render(
        request,
        "notifications/message_detail.html",
        {"message": message, "safe_url": safe_url, "follow_up": follow_up},
    )


@require_POST
def mark_all_read(request):
    count = services.messages_mark_all_read(user=request.user)
    flash.success(request, f"{count} message{'s' if count != 1 else ''} marked as read.")
    return redirect("notifications:inbox")


class PreferencesForm(forms.Form):
    email_kinds = forms.MultipleChoiceField(
        choices=[(kind.value, kind.label) for kind in CHOOSABLE_KINDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Kinds of message that also come by email",
        help_text="Your inbox always gets every message. An email says only that there is one, with a link to sign "
        "in: never what it says. Sign-in security notices always come by email.",
    )
    daily_summary = forms.BooleanField(
        required=False,
        label="One summary email a day instead of an email for each message",
        help_text="Sent each morning when messages of the kinds ticked above arrived the day before.",
    )


@require_http_methods(["GET", "POST"])
def preferences(request):
    """Which kinds of message also come by email, and whether as one daily summary."""
    user = request.user
    current = NotificationPreference.objects.filter(user=user).first()
    initial = {
        "email_kinds": current.email_kinds if current else [kind.value for kind in CHOOSABLE_KINDS],
        "daily_summary": current.daily_summary if current else False,
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.notification_preference_set(
            user=user, email_kinds=form.cleaned_data["email_kinds"], daily_summary=form.cleaned_data["daily_summary"]
        )
        flash.success(request, "Your notification preferences are saved.")
        return redirect("notifications:preferences")
    audit_record(
        actor=user,
        action=AuditEvent.Action.VIEW,
        object_type="notifications.notificationpreference",
        summary="notification preferences",
    )
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "errors": error_summary(form)},
        status=400 if request.method == "POST" else 200,
    )

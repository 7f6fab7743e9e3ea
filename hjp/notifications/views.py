from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.pagination import keyset_page
from hjp.notifications import selectors, services


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
    return render(request, "notifications/message_detail.html", {"message": message, "safe_url": safe_url})


@require_POST
def mark_all_read(request):
    count = services.messages_mark_all_read(user=request.user)
    flash.success(request, f"{count} message{'s' if count != 1 else ''} marked as read.")
    return redirect("notifications:inbox")

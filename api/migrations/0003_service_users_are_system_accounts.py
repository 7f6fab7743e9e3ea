"""The service users of the clients registered before accounts.0006 are marked as system accounts (as
api.services.api_client_create marks new ones): no email is sent to them, no case is assigned to them. Their
emails still waiting or failing (every one fails: the address is @api-clients.invalid) are cancelled."""

from django.db import migrations


def mark_system_accounts(apps, schema_editor):
    ApiClient = apps.get_model("api", "ApiClient")
    User = apps.get_model("accounts", "User")
    Delivery = apps.get_model("notifications", "Delivery")
    service_users = ApiClient.objects.values("service_user_id")
    User.objects.filter(pk__in=service_users).update(is_system_account=True)
    Delivery.objects.filter(
        channel="email", status__in=["pending", "failed"], message__recipient_id__in=service_users
    ).update(status="cancelled", last_error="The recipient is a system account (an API client): it is sent no email.")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_subscriptions"),
        ("accounts", "0007_user_is_system_account"),
        ("notifications", "0010_webhook_kind"),
    ]

    operations = [
        migrations.RunPython(mark_system_accounts, migrations.RunPython.noop),
    ]

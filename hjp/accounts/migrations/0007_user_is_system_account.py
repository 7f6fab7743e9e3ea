"""A system's account (an API client's service user) is marked, so that hjp's core can tell it from a person
without knowing the `api` app: it is sent no email and no case is assigned to it. The `api` app marks the ones it
made before this (api.0002)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_user_name_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="is_system_account",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="A system's account (an API client's service user): it never signs in, reads no inbox "
                "and is sent no email, and no case is assigned to it.",
            ),
        ),
    ]

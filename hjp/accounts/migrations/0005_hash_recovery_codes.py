"""Recovery codes made before they were hashed (hjp.accounts.recovery_codes) are hashed in place: each still
works once, and the database no longer holds it. A stored form is 16 characters; a plain code is 8."""

from django.db import migrations

from hjp.accounts.recovery_codes import STORED_LENGTH, stored_form


def hash_plain_codes(apps, schema_editor):
    StaticToken = apps.get_model("otp_static", "StaticToken")
    plain = list(StaticToken.objects.exclude(token__regex=rf"^.{{{STORED_LENGTH}}}$"))
    for token in plain:
        token.token = stored_form(token.token)
    StaticToken.objects.bulk_update(plain, ["token"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_partnership_retention_years"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_plain_codes, migrations.RunPython.noop, elidable=True)]

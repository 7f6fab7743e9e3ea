from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from hjp.core.encrypted import UnreadableSecret, encrypted_fields, reencrypt_column


class Command(BaseCommand):
    help = (
        "Write every encrypted column's values (hjp.core.encrypted: webhook signing secrets) again under the first "
        "of EVIDENCE_ENCRYPTION_KEYS, encrypting any kept in clear. Run it with rotate_evidence_keys after putting "
        "a new key first, before removing the old one."
    )

    def handle(self, *args, **options):
        for model in apps.get_models():
            for name in encrypted_fields(model):
                try:
                    written = reencrypt_column(model, name)
                except UnreadableSecret as error:
                    raise CommandError(f"{model._meta.label}.{name}: {error}") from None
                self.stdout.write(f"{model._meta.label}.{name}: {written} value(s) written under the first key")

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.models import SCOPES
from api.services import api_client_create
from hjp.accounts.models import Organisation


class Command(BaseCommand):
    help = (
        "Register a system client of the API for an organisation, and print its client id and secret (once: the "
        "secret is not kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisation", type=int, required=True, help="The organisation's id.")
        parser.add_argument("--name", required=True, help="The system, e.g. 'Riverside Surgery EMIS'.")
        parser.add_argument("--scopes", required=True, help=f"Space- or comma-separated, of: {', '.join(SCOPES)}.")
        parser.add_argument("--days", type=int, default=365, help="Days until the client expires (default 365).")

    def handle(self, *args, organisation, name, scopes, days, **options):
        try:
            org = Organisation.objects.get(pk=organisation)
        except Organisation.DoesNotExist:
            raise CommandError(f"There is no organisation {organisation}.") from None
        if days < 1:
            raise CommandError("--days must be at least 1.")
        try:
            created = api_client_create(
                actor=None,
                organisation=org,
                name=name,
                scopes=scopes.replace(",", " ").split(),
                expires_at=timezone.now() + timedelta(days=days),
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"client_id={created.client.application.client_id}\n")
        self.stdout.write(f"client_secret={created.client_secret}\n")
        self.stdout.write(
            f"Registered {created.client.name} for {org.name} with {created.client.allowed_scopes}, expiring "
            f"{created.client.expires_at:%Y-%m-%d}. Keep the secret now: it cannot be shown again.\n"
        )

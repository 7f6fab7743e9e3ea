"""Import partner providers into an advice organisation's directory from an Open Referral UK feed (its services
endpoint's address) or a JSON file, as one of its supervisors: `manage.py import_oruk SOURCE --as EMAIL`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from casework import oruk, services
from hjp.accounts.models import Organisation, User
from hjp.accounts.roles import roles_for
from hjp.audit.context import audit_context
from hjp.core.errors import DomainError


class Command(BaseCommand):
    help = "Import providers from an Open Referral UK feed address or JSON file into a service's directory."

    def add_arguments(self, parser):
        parser.add_argument("source", help="The feed's services address (https://...) or a JSON file's path.")
        parser.add_argument("--as", dest="email", required=True, help="A supervisor of the advice service.")
        parser.add_argument("--organisation", help="The advice service's name (if the supervisor has several).")

    def handle(self, *args, source, email, organisation=None, **options):
        actor = User.objects.filter(email__iexact=email, is_active=True).first()
        supervised = roles_for(actor).supervisor_org_ids if actor else frozenset()
        if not supervised:
            raise CommandError(f"{email} is not a supervisor of an advice service.")
        organisations = Organisation.objects.filter(pk__in=supervised)
        if organisation:
            organisations = organisations.filter(name=organisation)
        if organisations.count() != 1:
            raise CommandError("Name the advice service with --organisation (one the supervisor supervises).")
        try:
            raw = oruk.fetch_feed(source) if source.startswith(("http://", "https://")) else _read(source)
            records, problems = oruk.provider_records(oruk.parse(raw))
            with audit_context(user=actor, path="manage.py import_oruk"):
                result = services.providers_import(actor=actor, organisation=organisations.get(), records=records)
        except (oruk.OrukError, DomainError) as error:
            raise CommandError(str(error)) from error
        for line in [*problems, *result.problems]:
            self.stderr.write(line)
        self.stdout.write(f"{result.created} provider(s) added, {result.updated} updated.")


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise oruk.OrukError(f"Cannot read {path}: {error.strerror}.") from error

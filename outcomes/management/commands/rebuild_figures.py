from django.core.management.base import BaseCommand, CommandError

from hjp.accounts.models import Partnership
from outcomes.services import figures_rebuild


class Command(BaseCommand):
    help = (
        "Work out the running totals behind the dashboard, the funder report and its CSV again from the raw tables "
        "(all partnerships, or one). Safe to run at any time; run it after a bulk load that bypassed the models."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partnership", type=int, help="Only this partnership (its id).")

    def handle(self, *args, partnership: int | None, **options):
        if partnership is not None and not Partnership.objects.filter(pk=partnership).exists():
            raise CommandError(f"There is no partnership {partnership}.")
        counted = figures_rebuild(partnership_id=partnership)
        self.stdout.write(self.style.SUCCESS(f"Figures rebuilt from {counted} referrals."))

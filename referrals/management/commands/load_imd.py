"""Load the postcode-to-deprivation tables from the two files the admin downloads (README, "Deprivation deciles
from postcodes"): the English IMD 2019 File 1 as CSV, and an ONS postcode directory (CSV). Re-running replaces
the tables; a wrong file changes nothing and says what is wrong."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from referrals.deprivation import ImdFileError, load_imd


class Command(BaseCommand):
    help = "Load IMD 2019 deciles by LSOA and an ONS postcode-to-LSOA lookup, so that deciles come from postcodes."

    def add_arguments(self, parser):
        parser.add_argument(
            "--imd", required=True, type=Path, help='IMD 2019 File 1 as CSV: "LSOA code (2011)" and the IMD decile.'
        )
        parser.add_argument(
            "--postcodes", required=True, type=Path, help="ONS postcode directory (CSV): pcds and lsoa11 columns."
        )

    def handle(self, *args, imd: Path, postcodes: Path, **options):
        try:
            areas, loaded = load_imd(imd_path=imd, postcodes_path=postcodes)
        except ImdFileError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {areas:,} areas (LSOAs) with their IMD 2019 decile and {loaded:,} postcodes.")
        )

"""`manage.py bench_database`: create the database DATABASE_URL names, if missing (`make seed-scale`)."""

import os

from django.core.management.base import BaseCommand

from bench.databases import ensure_database


class Command(BaseCommand):
    help = "Create the database DATABASE_URL names on its PostgreSQL server, unless it exists."

    def handle(self, *args, **options):
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            self.stderr.write("Set DATABASE_URL (BENCH_DATABASE_URL) to a PostgreSQL database.")
            raise SystemExit(1)
        made = ensure_database(url)
        self.stdout.write(f"{'Created' if made else 'Using'} {url.rpartition('/')[2]}")

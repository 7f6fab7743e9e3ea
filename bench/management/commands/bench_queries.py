"""`manage.py bench_queries`: the query count of each benchmark page on this database, as JSON (`make bench`
runs it on the small and the large history)."""

import json

from django.core.management.base import BaseCommand, CommandError

from bench.pages import PAGES
from bench.queries import PageError, page_query_counts


class Command(BaseCommand):
    help = "Print the query count of each benchmark page (bench/pages.py) on this database, as JSON."

    def handle(self, *args, **options):
        try:
            counts, subjects = page_query_counts(PAGES)
        except (LookupError, PageError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps({"counts": counts, "case_id": subjects.case_id}))

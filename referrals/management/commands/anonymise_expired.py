"""Anonymise the referrals past their partnership's retention period now, or (--dry-run) say what the next run
would anonymise. The daily beat job `anonymise-expired-records` runs the same."""

from django.core.management.base import BaseCommand

from hjp.accounts.models import Partnership
from hjp.core.dates import format_date
from referrals.services.retention import BATCH_SIZE, anonymise_expired_records, retention_preview


class Command(BaseCommand):
    help = "Anonymise referrals past their partnership's retention period (--dry-run: only list them)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what the next run would anonymise.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Referrals a transaction.")

    def handle(self, *args, dry_run=False, batch_size=BATCH_SIZE, **options):
        if dry_run:
            for row in retention_preview():
                self.stdout.write(
                    f"{row.partnership.name}: {row.count} referral(s) finished before "
                    f"{format_date(row.cutoff.date())} ({row.partnership.retention_years} years)"
                )
                if row.references:
                    self.stdout.write("  " + " ".join(row.references))
            return
        counts = anonymise_expired_records(batch_size=batch_size)
        for partnership in Partnership.objects.filter(pk__in=counts).order_by("name"):
            self.stdout.write(f"{partnership.name}: {counts[partnership.pk]} referral(s) anonymised")
        self.stdout.write(self.style.SUCCESS(f"Anonymised {sum(counts.values())} referral(s)."))

import logging
from collections import Counter
from itertools import batched

from django.core.management.base import BaseCommand, CommandError

from hjp.core.storage import UnreadableFile, private_storage

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Re-encrypt every private file (uploaded evidence) with the first of EVIDENCE_ENCRYPTION_KEYS, and encrypt "
        "any stored before encryption, batch by batch. Files already under the first key are left as they are, "
        "so the command can be stopped and run again: it carries on where it stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=100, help="files per batch (default 100)")

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        totals = Counter()
        for number, batch in enumerate(batched(private_storage.stored_names(), batch_size), start=1):
            counts = Counter()
            for name in batch:
                try:
                    counts["rewritten" if private_storage.reencrypt(name) else "current"] += 1
                except UnreadableFile:
                    counts["unreadable"] += 1
                    logger.error("Private file %s cannot be decrypted with EVIDENCE_ENCRYPTION_KEYS", name)
                    self.stderr.write(f"Cannot decrypt {name} with any key.")
            self.stdout.write(f"Batch {number}: {self._describe(counts)}")
            totals.update(counts)
        self.stdout.write(f"Done: {self._describe(totals)}")
        if totals["unreadable"]:
            raise CommandError(
                f"{totals['unreadable']} file(s) could not be decrypted with any key: put the key that made them "
                "back in EVIDENCE_ENCRYPTION_KEYS (after the first) and run the command again."
            )

    @staticmethod
    def _describe(counts: Counter) -> str:
        text = f"{counts['rewritten']} re-encrypted, {counts['current']} already under the first key"
        if counts["unreadable"]:
            text += f", {counts['unreadable']} that no key decrypts"
        return text

from django.core.management.base import BaseCommand

from hjp.core.submissions import submission_tokens_purge


class Command(BaseCommand):
    help = "Delete the one-time form tokens of submissions more than a day old."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {submission_tokens_purge()} submission token(s).")

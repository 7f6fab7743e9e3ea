"""`manage.py bench_profile`: the CPU each benchmark page costs in this process, beside the bare view's, with no
HTTP server and no wrk (bench settings, a seed_scale history). Each page and the bare view are requested in
turn, interleaved, through the whole middleware stack with Django's test client; the ratio is the bare view's
time per request over the page's (what `make bench` measures as throughput, without the server). With
--profile NAME, the page whose name contains NAME (or the bare view: --profile bare) runs under cProfile and its costliest functions are printed."""

import cProfile
import io
import pstats
import time
from statistics import median

from django.core.management.base import BaseCommand

from bench.pages import PAGES, Page, bench_users, find_subjects
from bench.queries import signed_in_client

BARE_PATH = "/bench/bare/"
BARE = Page("bare", "referrer", lambda subjects: BARE_PATH)  # --profile bare: the bare view


class Command(BaseCommand):
    help = "Time every benchmark page in-process against the bare view; optionally profile one page."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=40, help="Requests of each page in each round.")
        parser.add_argument("--rounds", type=int, default=3, help="Interleaved rounds (bare, page, bare, page...).")
        parser.add_argument("--profile", default="", help="Profile the page whose name contains this.")
        parser.add_argument("--top", type=int, default=40, help="How many functions the profile prints.")

    def handle(self, *args, **options):
        users = bench_users()
        subjects = find_subjects(users)
        clients = {role: signed_in_client(user) for role, user in users.items()}
        pages = [page for page in PAGES if not options["profile"] or options["profile"] in page.name]
        n = options["requests"]

        def per_request(client, url) -> float:
            client.get(url)  # warm
            start = time.perf_counter()
            for _ in range(n):
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return (time.perf_counter() - start) / n

        if options["profile"]:
            page = pages[0] if pages else BARE
            client, url = clients[page.role], page.url(subjects)
            client.get(url)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(n):
                client.get(url)
            profiler.disable()
            report = io.StringIO()
            stats = pstats.Stats(profiler, stream=report).sort_stats("cumulative")
            stats.print_stats(options["top"])
            stats.sort_stats("tottime").print_stats(options["top"])
            self.stdout.write(f"{page.name}: {n} requests\n{report.getvalue()}")
            return
        self.stdout.write(f"{'page':40} {'ms/request':>10} {'bare ms':>8} {'ratio':>6}")
        for page in pages:
            client, url = clients[page.role], page.url(subjects)
            page_times, bare_times = [], []
            for _ in range(options["rounds"]):
                bare_times.append(per_request(clients[page.role], BARE_PATH))
                page_times.append(per_request(client, url))
            page_ms, bare_ms = median(page_times) * 1000, median(bare_times) * 1000
            self.stdout.write(f"{page.name[:40]:40} {page_ms:10.1f} {bare_ms:8.1f} {bare_ms / page_ms:6.2f}")

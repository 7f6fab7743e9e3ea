"""`make bench`: hjp's pages measured on a large generated history (outcomes/scale.py).

- pages.py: the pages measured, one list shared by the benchmark and the CI test of query counts;
- queries.py: how many queries each page takes (Django's test client, in this process);
- http.py: single-user latency and interleaved throughput (wrk) against gunicorn;
- views.py and urls.py: the bare view the throughput is compared with, only in the bench settings' URLconf
  (hjp/settings/bench.py), never in production's;
- management/commands/bench.py: `manage.py bench`, which `make bench` runs.

Not an app of the product: it is installed only by hjp/settings/bench.py."""

"""Django's cache is Redis when REDIS_URL is set, so every web process sees the same entries; without it (`make run`,
one process) it is the process's own memory."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import redis
from django.core.cache import cache

ROOT = Path(__file__).resolve().parents[2]


def test_with_redis_an_entry_one_process_caches_is_there_for_another(redis_url):
    key = f"shared-{uuid.uuid4().hex}"
    cache.set(key, "seen everywhere", 30)
    another_process = redis.Redis.from_url(redis_url)
    assert [k for k in another_process.keys(f"*{key}")], "the entry is in Redis, where every process looks"
    assert cache.get(key) == "seen everywhere"


def test_a_redis_that_stops_answering_costs_a_request_seconds_not_a_worker(redis_url):
    """redis-py waits for ever by default; the cache's connection and each command have a time limit."""
    from django.conf import settings

    options = settings.CACHES["default"]["OPTIONS"]
    assert (options["socket_connect_timeout"], options["socket_timeout"]) == (2, 5)
    pool = cache._cache.get_client(write=False).connection_pool
    assert (pool.connection_kwargs["socket_connect_timeout"], pool.connection_kwargs["socket_timeout"]) == (2, 5)


def test_without_redis_the_cache_is_the_process_memory():
    env = {name: value for name, value in os.environ.items() if name not in {"REDIS_URL", "DATABASE_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "hjp.settings.local"
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    shown = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    assert shown == "django.core.cache.backends.locmem.LocMemCache"

"""Local development: DEBUG on by default, a development secret key, SQLite unless DATABASE_URL is set."""

import os

os.environ.setdefault("DEBUG", "true")

from hjp.settings.base import *  # noqa: F403
from hjp.settings.base import SECRET_KEY as _SECRET_KEY

SECRET_KEY = _SECRET_KEY or "django-insecure-local-development-key-not-for-production"

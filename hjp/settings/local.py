"""Local development: DEBUG on by default, a development secret key, SQLite unless DATABASE_URL is set."""

import os

os.environ.setdefault("DEBUG", "true")

from hjp.settings.base import *  # noqa: F403
from hjp.settings.base import EVIDENCE_ENCRYPTION_KEYS as _EVIDENCE_ENCRYPTION_KEYS
from hjp.settings.base import SECRET_KEY as _SECRET_KEY

SECRET_KEY = _SECRET_KEY or "django-insecure-local-development-key-not-for-production"
# A development key (it reads "hjp-local-development-only-key!!"): never use it for real patients' documents.
EVIDENCE_ENCRYPTION_KEYS = _EVIDENCE_ENCRYPTION_KEYS or ["aGpwLWxvY2FsLWRldmVsb3BtZW50LW9ubHkta2V5ISE="]

# hjp's image: one image for the web, worker and beat processes (compose.yaml; README "Deploying with containers").
# tests/test_containers.py checks that its commands are those of the Procfile, the Makefile and the README.

# The front-end files WhiteNoise serves (settings.STATICFILES_DIRS): Bootstrap and Chart.js, from package-lock.json.
FROM node:22-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# WeasyPrint (the funder report as a PDF) draws text with Pango, and needs a font: the slim image has neither.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 hjp \
    && useradd --system --uid 10001 --gid hjp --home-dir /app --no-create-home --shell /usr/sbin/nologin hjp

# As `make install`: exactly the locked versions, every file checked against PyPI's hashes, then hjp itself with
# no dependencies and no build isolation, so nothing is fetched outside the lock.
COPY requirements.lock pyproject.toml ./
RUN python -m venv .venv \
    && .venv/bin/pip install --quiet --require-hashes -r requirements.lock
COPY . .
COPY --from=assets /build/node_modules/bootstrap/dist node_modules/bootstrap/dist
COPY --from=assets /build/node_modules/chart.js/dist node_modules/chart.js/dist
RUN .venv/bin/pip install --quiet --no-deps --no-build-isolation -e .

# The static files, collected once into the image. Production settings refuse to load without their secrets:
# these placeholders exist for this one command and are not kept in the image's environment.
RUN DJANGO_SETTINGS_MODULE=hjp.settings.production \
    SECRET_KEY=collectstatic-only-placeholder-not-a-secret-0123456789abcdef \
    DATABASE_URL=postgres://unused@unused/unused REDIS_URL=redis://unused:6379/0 TRUSTED_PROXY_COUNT=0 \
    EVIDENCE_ENCRYPTION_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXJlYWwta2U= \
    .venv/bin/python manage.py collectstatic --noinput

# The code is root's and read-only to the processes, which run as hjp. PRIVATE_MEDIA_ROOT (evidence on the disk,
# EVIDENCE_STORAGE=filesystem) is the one folder they write: a volume shared by web and worker, or use S3.
# gunicorn's worker processes keep their request metrics in PROMETHEUS_MULTIPROC_DIR (emptied by gunicorn.conf.py
# when gunicorn starts), so that /metrics adds up all of them.
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/hjp-prometheus
RUN mkdir -p /app/private_media "$PROMETHEUS_MULTIPROC_DIR" \
    && chown hjp:hjp /app/private_media "$PROMETHEUS_MULTIPROC_DIR" \
    && chmod 0700 /app/private_media "$PROMETHEUS_MULTIPROC_DIR"
USER hjp
EXPOSE 8000

# The Procfile's web process, word for word (compose.yaml runs its worker and beat the same way).
CMD ["sh", "-c", "DJANGO_SETTINGS_MODULE=hjp.settings.production exec .venv/bin/gunicorn hjp.wsgi --bind \"${WEB_HOST:-0.0.0.0}:${PORT:-8000}\" --workers \"${WEB_CONCURRENCY:-3}\" --timeout \"${WEB_TIMEOUT:-30}\" --graceful-timeout 30 --max-requests 1000 --max-requests-jitter 100"]

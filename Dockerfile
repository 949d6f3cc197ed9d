# One image for every process of the service: `bin/service web|worker|beat|flower|prepare`.

ARG PYTHON_IMAGE=python:3.12.15-slim-bookworm

# --- builder: the virtualenv with the pinned runtime requirements ---------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

COPY requirements.txt /tmp/requirements.txt
# pgserver (an embedded PostgreSQL for machines without a database server) is never used in
# the image, where DATABASE_URL always points at postgresql-service, and it has no linux/arm64
# wheel: it is left out so the image builds on every platform without a compiler.
RUN grep -v -i -E '^pgserver([^a-z0-9_.-]|$)' /tmp/requirements.txt > /tmp/requirements-image.txt \
    && pip install --no-cache-dir -r /tmp/requirements-image.txt

# --- runtime: the virtualenv and the application, no build tools, a non-root user -----------
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=settings.settings \
    BIND=0.0.0.0:8000 \
    SERVICE_VAR_DIR=/app/var \
    DJANGO_STATIC_ROOT=/app/var/static

# A fixed uid above the system range (not --system, which warns about it). The user has a home
# of its own, writable: gunicorn keeps its control socket (gunicornc) in $HOME/.gunicorn.
RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --no-log-init --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The code stays owned by root (read-only to the app user); only /app/var is writable: static
# files, media, the beat schedule.
COPY . /app
RUN python -m compileall -q /app \
    && mkdir -p /app/var/static /app/var/media \
    && chown -R app:app /app/var

USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py", "http", "http://127.0.0.1:8000/healthz"]

ENTRYPOINT ["python", "/app/bin/service"]
CMD ["web"]

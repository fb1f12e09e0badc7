# CEA's one image (docs/deploying.md): the web process by default; the same image runs the Celery
# worker, beat and the migrate one-shot by command (deploy/compose.yaml, the Procfile's lines).
#
#   docker build -t cea .
#   docker run --env-file cea.env -p 8000:8000 cea                                  # web
#   docker run --env-file cea.env cea celery -A cea worker --loglevel INFO         # worker
#   docker run --env-file cea.env cea python manage.py migrate --no-input          # on deploy

# --- Build: the dependencies into a virtual environment (some need a compiler) ----------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- Run ---------------------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=cea.settings \
    CEA_DATA_DIR=/var/lib/cea \
    CEA_MEDIA_ROOT=/var/lib/cea/media \
    PORT=8000 \
    WEB_CONCURRENCY=2
# A user of its own: nothing in the container runs as root.
RUN useradd --system --uid 10001 --home-dir /var/lib/cea --create-home --shell /usr/sbin/nologin cea \
    && mkdir -p /var/lib/cea/media \
    && chown -R cea:cea /var/lib/cea
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# The translation catalogs compiled (polib, no gettext needed), then the static files collected and
# fingerprinted for WhiteNoise. Settings need a database, a Redis and a key named to import: these
# placeholders are never connected to, and none of them is in the image's environment afterwards.
RUN python -m cea.common.translations \
    && DATABASE_URL=postgres://build@127.0.0.1:9/build REDIS_URL=redis://127.0.0.1:9/0 \
       SECRET_KEY=build-only-not-a-secret CEA_ALLOW_CONSOLE_SENDERS=1 \
       python manage.py collectstatic --no-input -v 0
USER cea
EXPOSE 8000
# The Procfile's web line: uvicorn with WEB_CONCURRENCY worker processes on PORT.
CMD ["sh", "-c", "exec uvicorn cea.asgi:application --host 0.0.0.0 --port ${PORT:-8000} --workers ${WEB_CONCURRENCY:-2} --no-access-log --no-proxy-headers --lifespan off --ws-max-size ${CEA_WS_MAX_BYTES:-65536}"]

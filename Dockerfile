# Production image: gunicorn serves the web app; run a second container from the same
# image with the worker command for background jobs (see README).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/data \
    PORT=8000

WORKDIR /app
RUN useradd --create-home --uid 10001 playground \
    && mkdir -p /data && chown playground:playground /data

COPY pyproject.toml README.md ./
COPY playground ./playground
RUN pip install ".[postgres]"

COPY manage.py ./
COPY templates ./templates
COPY static ./static
# Static files are collected at build time and served by whitenoise.
RUN SECRET_KEY=build-only DATA_DIR=/tmp/build python manage.py collectstatic --noinput -v0 \
    && mv /tmp/build/staticfiles /app/staticfiles && rm -rf /tmp/build
ENV STATIC_ROOT=/app/staticfiles

USER playground
VOLUME ["/data"]
EXPOSE 8000

# /healthz over loopback, as the public host and over TLS when gunicorn terminates it; it is
# exempt from the HTTPS redirect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "playground.healthcheck"]

# Migrations run at start; then gunicorn managing uvicorn workers (ASGI): a page's event stream
# costs a coroutine, not a thread. With TLS_CERTFILE (and TLS_KEYFILE) gunicorn speaks HTTPS
# itself. X-Forwarded-* headers are left to Django, which trusts them only with PROXY_COUNT.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py prepare_playground && exec gunicorn playground.asgi:application --bind 0.0.0.0:${PORT} ${TLS_CERTFILE:+--certfile \"$TLS_CERTFILE\"} ${TLS_KEYFILE:+--keyfile \"$TLS_KEYFILE\"} --forwarded-allow-ips '' --worker-class uvicorn_worker.UvicornWorker --workers 2 --timeout 0 --graceful-timeout 10 --no-control-socket --access-logfile -"]

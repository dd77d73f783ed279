# Agora: the bot, with its catalogs compiled during the build and its data in a volume.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md hatch_build.py babel.cfg ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY locales ./locales
COPY articles ./articles
# The wheel's build hook compiles locales/*.po into .mo files.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/agora.db \
    ARTICLES_DIR=/data/articles \
    METRICS_PORT=9090 \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin agora \
    && mkdir -p /data && chown agora:agora /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && python -m bot check
USER agora
WORKDIR /data
VOLUME ["/data"]
# /metrics for Prometheus; /healthz answers while the bot's loop runs and its database answers
# (on METRICS_PORT, and on PORT too in webhook mode, for the load balancer); 8080: webhooks.
# The metrics server listens on 127.0.0.1 (METRICS_HOST), which the HEALTHCHECK below uses:
# run with -e METRICS_HOST=0.0.0.0 for a Prometheus outside the container.
EXPOSE 9090 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['METRICS_PORT'], timeout=4)"
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]

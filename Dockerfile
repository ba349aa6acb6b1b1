# LiveCommerce server image. The same image runs `livecommerce db upgrade` (once, before the workers)
# and `livecommerce serve` (the default command); see docker-compose.yml for the scaled shape.
FROM python:3.11-slim

# No .pyc files on a read-only tree, logs straight to `docker logs`, no pip cache in the layers.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The server never needs root. /data holds uploaded media and data; it is created here and owned by the
# app user so that a named volume mounted over it starts with the right owner.
RUN useradd --create-home --uid 10001 --user-group livecommerce \
    && mkdir /data \
    && chown livecommerce:livecommerce /data
ENV LIVECOMMERCE_DATA_DIR=/data

WORKDIR /app

# Dependencies first, read straight from pyproject.toml, so that editing the source does not reinstall them.
# Every dependency (aiortc and av included) ships manylinux wheels, so no compiler is needed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The whole tree, installed in place (editable): app.py finds templates/ and static/ beside itself, so the
# code must stay in the source tree rather than be copied into site-packages. The tree stays owned by root
# and read-only for the app user.
COPY . .
RUN pip install --no-deps -e .

USER livecommerce
# 8000: the app. 8001: the media process `serve --workers 2` starts for WHIP/WHEP (clients are redirected there;
# set LIVECOMMERCE_MEDIA_NODE_URL to the address they reach it at, or name media nodes in LIVECOMMERCE_MEDIA_NODES).
EXPOSE 8000 8001

# Liveness only (the process answers); readiness (database and Redis) is /readyz, probed by the orchestrator.
# The slim image has no curl, so Python does the request; urlopen raises, and the check fails, on non-2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Serve with two workers; migrations are NOT run here (that would race once per worker or container):
# run `livecommerce db upgrade` once before starting it, as the compose `migrate` service does.
CMD ["livecommerce", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]

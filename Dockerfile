# aiops worker image: the package and its runtime dependencies, no embedded broker (set kafka.bootstrap).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the build needs: pyproject reads README.md and LICENSE; the package ships aiops/ with its data
# files; requirements.lock pins every dependency (the same versions CI tests).
COPY pyproject.toml README.md LICENSE requirements.lock ./
COPY aiops ./aiops
RUN pip install -c requirements.lock . \
    && useradd --system --uid 10001 --no-create-home aiops \
    && mkdir -p /var/lib/aiops && chown aiops /var/lib/aiops \
    && rm -rf /src

# A writable working directory for the service's files.
WORKDIR /var/lib/aiops
USER aiops
# /metrics and /healthz (http.port); bind to all interfaces inside the container (AIOPS_HTTP__HOST).
EXPOSE 8080
ENV AIOPS_HTTP__HOST=0.0.0.0
CMD ["aiops", "run", "--config", "/etc/aiops/aiops.yaml"]

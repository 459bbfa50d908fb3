# relc and promtool in a small image for CI jobs: `docker build -t relc .`, then, from a repository holding
# .relc files, `docker run --rm -v "$PWD:/work" relc check slo` (docs/cli.md, "Container image").
# Runs as an unprivileged user; give `--user "$(id -u):$(id -g)"` when a command writes into the mounted
# checkout (relc build, fmt, init). The version is relc's own: `docker run --rm relc --version`.

# relc's wheel, built from this checkout (only the files .dockerignore lets through).
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY compiler/ compiler/
COPY grammar/ grammar/
COPY targets/ targets/
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /dist .

# promtool alone: Debian's prometheus package holds it beside the server and its web assets; only the binary
# (which needs nothing but libc) is copied on, into an image of the same Debian release.
FROM debian:bookworm-slim AS promtool
# The package is whatever bookworm's security updates hold; pinning a Debian revision would break the build at
# the next point release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/*

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="relc" \
      org.opencontainers.image.description="Reliability as code: one SLO source compiled to Prometheus rules, dashboards, Datadog monitors and runbooks; with promtool" \
      org.opencontainers.image.source="https://github.com/relc-dev/relc" \
      org.opencontainers.image.url="https://github.com/relc-dev/relc" \
      org.opencontainers.image.documentation="https://github.com/relc-dev/relc/blob/main/docs/cli.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="relc"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
COPY --from=promtool /usr/bin/promtool /usr/local/bin/promtool
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/relc-*.whl \
 && rm -rf /tmp/dist \
 && useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin relc
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["relc"]
CMD ["--help"]

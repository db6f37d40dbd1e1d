# GEMS bot image: runtime dependencies only, runs as an unprivileged user.
# Untested here (no Docker engine on the development machines); see docs/operations.md "Docker compose".
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --create-home --uid 10001 gems \
 && install -d -o gems -g gems -m 700 /var/lib/gems

# Dependencies first (cached while only the code changes); no dev extras.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY economy ./economy
COPY migrations ./migrations
# The offline Discord emulator: `run` without DISCORD_TOKEN plays the demo. devtools/ (the Stripe
# double, the test chain) is not copied: the demo skips the scenes that need it.
COPY discord_sandbox ./discord_sandbox
COPY data/categories.json ./data/categories.json
COPY data/challenges ./data/challenges
COPY data/seasons ./data/seasons
RUN pip install --editable .

USER gems
# The embedded store (when MONGODB_URI is unset) keeps its runtime data in a volume, not in the
# image (data/ holds only shipped content).
ENV DATA_DIR=/var/lib/gems \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080
VOLUME ["/var/lib/gems"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]

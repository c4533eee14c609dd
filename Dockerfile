# The tuanbot image used by deploy/compose.yaml: one instance per container.
FROM python:3.11-slim
WORKDIR /opt/tuanbot
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY models models
COPY scheduler scheduler
COPY locales locales
RUN pip install --no-cache-dir .
RUN useradd --system tuanbot && mkdir -p data && chown tuanbot data
USER tuanbot
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]

# The one image every Dampwatch process runs from: `dampwatch <command>`.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 dampwatch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY store store
COPY ingest ingest
COPY models models
COPY alerts alerts
COPY api api
COPY dampwatch dampwatch
COPY firmware-sim firmware-sim
RUN pip install --no-cache-dir .
USER dampwatch
ENTRYPOINT ["dampwatch"]
CMD ["--help"]

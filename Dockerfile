# The forecast service: FastAPI + onnxruntime on CPU, no torch.
#   docker build -t lstm-forecast/api .
#   docker run -p 8000:8000 -v "$PWD/models:/models:ro" -v forecasts:/store lstm-forecast/api
# Answered forecasts and their scores go to /store (SQLite); FORECAST_STORE=postgresql://... for several replicas.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY docker/requirements-serve.txt /tmp/requirements-serve.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements-serve.txt
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY service/ service/
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FORECAST_HOST=0.0.0.0 \
    FORECAST_PORT=8000 \
    FORECAST_MODEL_DIR=/models \
    FORECAST_STORE=/store/forecasts.sqlite \
    FORECAST_WORKERS=auto
RUN groupadd --system --gid 10001 forecast \
    && useradd --system --uid 10001 --gid forecast --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin forecast \
    && mkdir -p /models /store \
    && chown forecast:forecast /models /store
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "service.healthcheck"]
CMD ["python", "-m", "service"]

# One image for both roles: `tocsin serve` (API, webhooks) and `tocsin worker` (RQ + scheduler + sweeper).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY bot ./bot
COPY adapters ./adapters
COPY templates ./templates
COPY examples ./examples
RUN pip install . && useradd --system --home /app tocsin
USER tocsin
EXPOSE 8080
CMD ["tocsin", "serve", "--host", "0.0.0.0", "--port", "8080"]

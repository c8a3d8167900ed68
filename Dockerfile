# One image for web, worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=ipdreview.settings.production

RUN groupadd --system app && useradd --system --gid app --home-dir /app app
WORKDIR /app

# cairo and fonts: the PRISMA-IPD diagram's PNG and PDF; chromium: the report's forest plots (kaleido).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcairo2 fonts-dejavu-core chromium \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings that import cleanly; the build-time secret is never used at run time.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media && chown -R app:app /app/media

USER app
EXPOSE 8000
CMD ["gunicorn", "ipdreview.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

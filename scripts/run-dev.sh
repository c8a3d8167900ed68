#!/usr/bin/env bash
# `make run`: migrates, loads the demo review, starts a Celery worker (with beat) when REDIS_URL is set,
# and serves the app. Without DATABASE_URL the data live in var/db.sqlite3; without REDIS_URL tasks run
# in the web process.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && set -a && . ./.env && set +a
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
BIN=.venv/bin

mkdir -p var
$BIN/python manage.py migrate --noinput
$BIN/python manage.py load_demo

worker_pid=""
if [ -n "${REDIS_URL:-}" ]; then
  echo "Starting a Celery worker with beat on $REDIS_URL (log: var/worker.log)"
  $BIN/celery -A ipdreview worker --beat --queues default,ingest,checks,analysis --loglevel INFO \
    --schedule var/celerybeat-schedule >var/worker.log 2>&1 &
  worker_pid=$!
  trap '[ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null' EXIT
else
  echo "REDIS_URL is not set: tasks run inside the web process."
fi

echo
echo "IPD Review: http://$HOST:$PORT/   (admin: http://$HOST:$PORT/admin/, API docs: http://$HOST:$PORT/api/docs/)"
echo "Log in with one of the demo accounts listed above."
echo
$BIN/python manage.py runserver "$HOST:$PORT"

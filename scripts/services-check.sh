#!/usr/bin/env bash
# The test suite runs on PostgreSQL and Redis, as production does: say clearly when either is not reachable.
set -u
db_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ipdreview}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/15}
ok=0
.venv/bin/python - "$db_url" "$redis_url" <<'PY' || ok=1
import sys

import psycopg
import redis

db_url, redis_url = sys.argv[1:3]
try:
    psycopg.connect(db_url.rsplit("/", 1)[0] + "/postgres", connect_timeout=5).close()
except Exception as error:
    sys.exit(f"PostgreSQL is not reachable at {db_url}: {error}. Start it (scripts/services-up.sh) or set DATABASE_URL.")
try:
    redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
except Exception as error:
    sys.exit(f"Redis is not reachable at {redis_url}: {error}. Start it (scripts/services-up.sh) or set REDIS_URL.")
PY
exit $ok

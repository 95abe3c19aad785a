#!/usr/bin/env bash
# Checks that PostgreSQL and Redis answer on loopback; starts them with the machine's own commands
# when they are installed but stopped; otherwise says exactly what is missing. Idempotent.
set -uo pipefail
PGHOST=${PGHOST:-127.0.0.1}; PGPORT=${PGPORT:-5432}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}; REDIS_PORT=${REDIS_PORT:-6379}
fail=0

pg_up() { pg_isready -h "$PGHOST" -p "$PGPORT" -q 2>/dev/null; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "services: PostgreSQL is not answering on $PGHOST:$PGPORT; starting it (pg_ctlcluster)…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
  fi
  if ! pg_up; then
    echo "services: PostgreSQL is not reachable on $PGHOST:$PGPORT and could not be started."
    echo "          Install it (apt-get install postgresql) or set AUTOPILOT_DATABASE_URL to a running server."
    fail=1
  fi
fi

if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "services: Redis is not answering on $REDIS_HOST:$REDIS_PORT; starting it (redis-server --daemonize)…"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/autopilot.log || true
    for _ in $(seq 1 30); do redis_up && break; sleep 0.2; done
  fi
  if ! redis_up; then
    echo "services: Redis is not reachable on $REDIS_HOST:$REDIS_PORT and could not be started."
    echo "          Install it (apt-get install redis-server) or set AUTOPILOT_REDIS_URL to a running server."
    fail=1
  fi
fi

[ $fail -eq 0 ] && echo "services: PostgreSQL $PGHOST:$PGPORT and Redis $REDIS_HOST:$REDIS_PORT answer."
exit $fail

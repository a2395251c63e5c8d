#!/usr/bin/env bash
# Starts the local PostgreSQL and RabbitMQ used by the tests, if they are not running yet.
set -uo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if pg_up; then
  echo "services: PostgreSQL is running"
else
  echo "services: starting PostgreSQL..."
  if ! pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start; then
    echo "services: could not start PostgreSQL; install it (apt-get install postgresql) or set TEST_DATABASE_URL" >&2
    exit 1
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "services: PostgreSQL did not come up within 30 s" >&2; exit 1; }
fi

if rabbit_up; then
  echo "services: RabbitMQ is running"
elif command -v rabbitmq-server >/dev/null; then
  echo "services: starting RabbitMQ..."
  rabbitmq-server -detached
  for _ in $(seq 1 60); do rabbit_up && break; sleep 1; done
  rabbit_up || { echo "services: RabbitMQ did not come up within 60 s (see /var/log/rabbitmq)" >&2; exit 1; }
  echo "services: RabbitMQ is up"
else
  echo "services: RabbitMQ is not installed: apt-get install rabbitmq-server, or set TEST_AMQP_URL" >&2
  exit 1
fi
exit 0

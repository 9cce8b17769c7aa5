#!/bin/bash
# One login and one schema per service: a service's role owns its schema and has no rights on
# the others', so "no service reads another's schema" holds in the database too. The roles get
# no CREATE on the database: the schemas are made here, and each service only migrates its own
# (service-kit's `migrate` creates a schema only when it is missing).
#
# Run once by the postgres image, on an empty data directory, as the superuser over the Unix
# socket (shared/system-tests/tests/postgres_init.rs runs it the same way against a real cluster).
# The passwords reach PostgreSQL as psql variables, quoted by psql (`:'name'`), never pasted into
# the SQL text: any character is safe.
set -euo pipefail

# Each password from its variable, or from the file VAR_FILE names (compose passes files:
# /run/secrets/...), as the image reads POSTGRES_PASSWORD_FILE. Trailing newlines are dropped.
for var in ORDERS_DB_PASSWORD KITCHEN_DB_PASSWORD USERS_DB_PASSWORD; do
  file_var="${var}_FILE"
  if [ -n "${!file_var:-}" ]; then
    if [ -n "${!var:-}" ]; then
      echo "postgres-init.sh: set $var or $file_var, not both" >&2
      exit 1
    fi
    if [ ! -r "${!file_var}" ]; then
      echo "postgres-init.sh: $file_var names a file that cannot be read" >&2
      exit 1
    fi
    printf -v "$var" '%s' "$(< "${!file_var}")"
  fi
  if [ -z "${!var:-}" ]; then
    echo "postgres-init.sh: $var is empty" >&2
    exit 1
  fi
done

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set orders_password="$ORDERS_DB_PASSWORD" \
  --set kitchen_password="$KITCHEN_DB_PASSWORD" \
  --set users_password="$USERS_DB_PASSWORD" <<'SQL'
CREATE ROLE orders_svc LOGIN PASSWORD :'orders_password';
CREATE ROLE kitchen_svc LOGIN PASSWORD :'kitchen_password';
CREATE ROLE users_svc LOGIN PASSWORD :'users_password';
CREATE SCHEMA orders AUTHORIZATION orders_svc;
CREATE SCHEMA kitchen AUTHORIZATION kitchen_svc;
CREATE SCHEMA users AUTHORIZATION users_svc;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL

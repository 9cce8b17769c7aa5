#!/bin/bash
# One login and one schema per service: a service's role owns its schema and has no rights on
# the others', so "no service reads another's schema" holds in the database too.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE orders_svc LOGIN PASSWORD '${ORDERS_DB_PASSWORD}';
CREATE ROLE kitchen_svc LOGIN PASSWORD '${KITCHEN_DB_PASSWORD}';
CREATE ROLE users_svc LOGIN PASSWORD '${USERS_DB_PASSWORD}';
CREATE SCHEMA orders AUTHORIZATION orders_svc;
CREATE SCHEMA kitchen AUTHORIZATION kitchen_svc;
CREATE SCHEMA users AUTHORIZATION users_svc;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL

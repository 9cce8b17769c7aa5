#!/bin/sh
# The image's entrypoint: puts the database password into DATABASE_URL percent-encoded, then
# runs the command (`users`, `orders`, ...).
#
# Compose cannot escape a value it interpolates, so it never pastes a password into a URL:
# it sets DATABASE_URL without one (postgresql://USER@HOST:PORT/DB) and the password apart, in
# DATABASE_PASSWORD or in a file named by DATABASE_PASSWORD_FILE (Docker secrets). Every byte of
# the password is written as %XX, which the services' URL parser (tokio-postgres) decodes, so
# any character is safe. Checked by shared/system-tests/tests/postgres_init.rs.
set -eu

if [ -n "${DATABASE_PASSWORD_FILE:-}" ]; then
  DATABASE_PASSWORD=$(cat "$DATABASE_PASSWORD_FILE")
fi
if [ -n "${DATABASE_PASSWORD:-}" ]; then
  case "${DATABASE_URL:-}" in
    postgresql://*@* | postgres://*@*) ;;
    *)
      echo "service-entrypoint: DATABASE_PASSWORD needs DATABASE_URL=postgresql://USER@HOST:PORT/DB" >&2
      exit 64
      ;;
  esac
  scheme=${DATABASE_URL%%://*}
  rest=${DATABASE_URL#*://}
  user=${rest%%@*}
  location=${rest#*@}
  case "$user" in
    *:*)
      echo "service-entrypoint: DATABASE_URL already carries a password; set it in one place only" >&2
      exit 64
      ;;
  esac
  encoded=$(printf '%s' "$DATABASE_PASSWORD" | od -An -v -tx1 | tr -d ' \n' | sed 's/../%&/g')
  DATABASE_URL="$scheme://$user:$encoded@$location"
  export DATABASE_URL
  unset DATABASE_PASSWORD DATABASE_PASSWORD_FILE
fi

exec "$@"

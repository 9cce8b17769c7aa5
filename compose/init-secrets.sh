#!/bin/bash
# compose/init-secrets.sh: makes every secret compose/docker-compose.yml reads that is not there
# yet, in compose/secrets/ (git-ignored, kept out of the image's build context). Run from
# anywhere; run again at will: an existing file is never changed (delete one to replace it).
#
#   passwords     32 random bytes, base64: PostgreSQL's superuser and each service's role, the
#                 first kitchen account, Grafana's admin, the SCRAM users of the brokers
#   token keys    token-private.hex / token-public.hex (`users generate-keys`)
#   service tokens  <service>_service_token (`users mint-service-token NAME 365`)
#
# The users binary runs as `cargo run -q -p users --`, unless USERS_BIN names another command
# (e.g. the path of a built `users`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$root/compose/secrets"
read -ra users <<<"${USERS_BIN:-cargo run -q -p users --}"

umask 077
mkdir -p "$dir"
# Only its owner may enter the directory; the files inside are readable by any uid, because the
# containers read them as their own users (services 10001, PostgreSQL's init 999) and compose
# bind-mounts each file as it is.
chmod 0700 "$dir"

made=()
for name in postgres_password orders_db_password kitchen_db_password users_db_password kitchen_password \
  grafana_admin_password kafka_admin_password kafka_orders_password kafka_kitchen_password kafka_console_password; do
  if [ ! -s "$dir/$name" ]; then
    openssl rand -base64 32 | tr -d '\n' >"$dir/$name"
    made+=("$name")
  fi
done

if [ ! -s "$dir/token-private.hex" ] || [ ! -s "$dir/token-public.hex" ]; then
  (cd "$root" && "${users[@]}" generate-keys "$dir")
  made+=(token-private.hex token-public.hex)
fi
for service in gateway orders kitchen; do
  file="$dir/${service}_service_token"
  if [ ! -s "$file" ]; then
    token=$(cd "$root" && TOKEN_PRIVATE_KEY_FILE="$dir/token-private.hex" "${users[@]}" mint-service-token "$service" 365)
    printf '%s' "$token" >"$file"
    made+=("${service}_service_token")
  fi
done

chmod 0644 "$dir"/*
if [ ${#made[@]} -eq 0 ]; then
  echo "init-secrets: every secret is there already ($dir)"
else
  echo "init-secrets: made ${made[*]} in $dir"
fi

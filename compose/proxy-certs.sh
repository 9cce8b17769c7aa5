#!/bin/sh
# The `certs` job: makes sure the proxy has a certificate. Run on every `docker compose up`,
# before the proxy starts, with the `certs` volume mounted at CERT_DIR (/certs).
#
# - A certificate already there (tls.crt + tls.key) is kept as it is: the operator's own (copied
#   into the volume, see compose/README.md), or the one this job made on an earlier run.
# - Otherwise a self-signed one is made, for local use only: valid for localhost, 127.0.0.1 and
#   the names in TLS_NAMES (space-separated), for 365 days. Browsers warn about it; a real
#   deployment puts its own certificate in the volume.
# Nothing here is ever committed: the key is made in the volume and stays there.
set -eu

dir=${CERT_DIR:-/certs}
crt="$dir/tls.crt"
key="$dir/tls.key"

if [ -s "$crt" ] && [ -s "$key" ]; then
  echo "proxy-certs: keeping the certificate in $dir"
  exit 0
fi
if [ -e "$crt" ] || [ -e "$key" ]; then
  echo "proxy-certs: $dir holds only one of tls.crt and tls.key; put both there, or neither" >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "proxy-certs: openssl is missing" >&2; exit 1; }

san="DNS:localhost,IP:127.0.0.1"
for name in ${TLS_NAMES:-}; do
  case "$name" in
    *[!A-Za-z0-9.:-]*) echo "proxy-certs: TLS_NAMES holds an odd name: $name" >&2; exit 1 ;;
    *:*) san="$san,IP:$name" ;;
    *[!0-9.]*) san="$san,DNS:$name" ;;
    *) san="$san,IP:$name" ;;
  esac
done

mkdir -p "$dir"
umask 077
tmp=$(mktemp -d "$dir/.new.XXXXXX")
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -sha256 \
  -keyout "$tmp/tls.key" -out "$tmp/tls.crt" \
  -subj "/CN=localhost" -addext "subjectAltName=$san" 2>/dev/null
# The certificate is public; the key stays readable by its owner (the proxy's master, root) only.
chmod 0644 "$tmp/tls.crt"
chmod 0600 "$tmp/tls.key"
mv "$tmp/tls.key" "$key"
mv "$tmp/tls.crt" "$crt"
rmdir "$tmp"
echo "proxy-certs: made a self-signed certificate for $san in $dir (local use only)"

#!/bin/bash
# The `topics` job: the cluster settings production needs and the topics, run on every
# `docker compose up`. Idempotent: settings are set again (a cluster bootstrapped with other
# values is brought back), a missing topic is created, an existing one is checked and never
# recreated. Any failure fails the job, and nothing that depends on it starts: producers must
# never meet a missing topic (auto-creation is off, so they get an error, not a topic with
# cluster defaults).
#
# rpk reads the brokers and admin API addresses from RPK_BROKERS and RPK_ADMIN_HOSTS.
#
# SASL: the brokers take only SCRAM-authenticated Kafka clients (enable_sasl, set at the
# cluster's first start by redpanda-bootstrap.yaml, and here again). The users in SASL_USERS are
# created, or their passwords brought back to their files, through the Admin API (reachable only
# on compose's network); each password is the file $SASL_PASSWORD_DIR/kafka_<user>_password.
# `admin` is the superuser this job then works as; the others get only the ACLs below.
set -euo pipefail

MECHANISM=SCRAM-SHA-256
: "${SASL_USERS:?SASL_USERS names the SCRAM users}"
: "${SASL_PASSWORD_DIR:?SASL_PASSWORD_DIR holds their password files}"

# `password USER`: the user's password, from its file (never printed).
password() {
  local file="$SASL_PASSWORD_DIR/kafka_$1_password" value
  if [ ! -s "$file" ]; then
    echo "no password for the SASL user $1: $file is missing or empty" >&2
    exit 1
  fi
  value=$(cat "$file")
  printf '%s' "$value"
}

# Every password file first: a missing one stops the job before it changes anything (and a
# failure inside "$(password …)" below could not stop it).
for user in $SASL_USERS; do
  password "$user" >/dev/null
done
case " $SASL_USERS " in
  *" admin "*) ;;
  *) echo "SASL_USERS must include admin, the superuser this job works as" >&2; exit 1 ;;
esac
existing=$(rpk security user list | awk 'NR > 1 { print $1 }')
for user in $SASL_USERS; do
  if printf '%s\n' "$existing" | grep -qx -- "$user"; then
    rpk security user update "$user" --new-password "$(password "$user")" --mechanism "$MECHANISM"
  else
    rpk security user create "$user" --password "$(password "$user")" --mechanism "$MECHANISM"
  fi
done

# Cluster properties live in the controller log: they hold for every broker and survive
# restarts. Fsync is on by default outside developer mode (the brokers start without it).
rpk cluster config set superusers "['admin']"
rpk cluster config set enable_sasl true
rpk cluster config set auto_create_topics_enabled false
rpk cluster config set write_caching_default false

# From here on the Kafka API, as the superuser.
RPK_PASS=$(password admin)
export RPK_USER=admin RPK_PASS RPK_SASL_MECHANISM=$MECHANISM

# `ensure_topic NAME PARTITIONS REPLICAS`
ensure_topic() {
  local name=$1 partitions=$2 replicas=$3 found
  found=$(rpk topic list | awk -v topic="$name" '$1 == topic { print $2 " " $3 }')
  if [ -z "$found" ]; then
    rpk topic create "$name" --partitions "$partitions" --replicas "$replicas" \
      --topic-config write.caching=false
  elif [ "$found" != "$partitions $replicas" ]; then
    echo "topic $name has partitions/replicas $found, not $partitions $replicas: change it by hand" >&2
    exit 1
  else
    rpk topic alter-config "$name" --set write.caching=false
  fi
}

# Six partitions keyed by order id (services' ORDERS_TOPIC_PARTITIONS), three replicas: an
# acknowledged write (acks=all) is on a Raft majority, two of three brokers.
ensure_topic orders.events 6 3
ensure_topic orders.events.dlq 1 3

# `allow USER OPERATIONS RESOURCE...`: an ACL (creating one that exists changes nothing).
allow() {
  local user=$1 operations=$2
  shift 2
  rpk security acl create --allow-principal "User:$user" --operation "$operations" "$@"
}
# Least privilege: each service may do what its code does and nothing else.
# orders: the relay's idempotent producer, the WatchOrders feed (a group of its own per process,
# orders-watch-*), and `tail-events` run in its container (tail-events-*).
allow orders describe,write,read --topic orders.events
allow orders read --group orders-watch- --resource-pattern-type prefixed
allow orders read --group tail-events- --resource-pattern-type prefixed
allow orders idempotent_write --cluster
# kitchen: consumes in its group; its dead-letter producer is idempotent too.
allow kitchen describe,read --topic orders.events
allow kitchen read --group kitchen-service
allow kitchen describe,write --topic orders.events.dlq
allow kitchen idempotent_write --cluster
# console: reads everything, changes nothing.
allow console describe,describe_configs,read --topic '*'
allow console describe --group '*'
allow console describe,describe_configs --cluster

# Read back what production depends on.
[ "$(rpk cluster config get enable_sasl)" = true ]
[ "$(rpk cluster config get auto_create_topics_enabled)" = false ]
[ "$(rpk cluster config get write_caching_default)" = false ]
rpk topic list
rpk security acl list

#!/bin/bash
# The `topics` job: the cluster settings production needs and the topics, run on every
# `docker compose up`. Idempotent: settings are set again (a cluster bootstrapped with other
# values is brought back), a missing topic is created, an existing one is checked and never
# recreated. Any failure fails the job, and nothing that depends on it starts: producers must
# never meet a missing topic (auto-creation is off, so they get an error, not a topic with
# cluster defaults).
#
# rpk reads the brokers and admin API addresses from RPK_BROKERS and RPK_ADMIN_HOSTS.
set -euo pipefail

# Cluster properties live in the controller log: they hold for every broker and survive
# restarts. Fsync is on by default outside developer mode (the brokers start without it).
rpk cluster config set auto_create_topics_enabled false
rpk cluster config set write_caching_default false

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

# Read back what production depends on.
[ "$(rpk cluster config get auto_create_topics_enabled)" = false ]
[ "$(rpk cluster config get write_caching_default)" = false ]
rpk topic list

#!/usr/bin/env bash
# A streaming replica of this machine's PostgreSQL 15 (cluster 15/main, 127.0.0.1:5432) as a second Debian
# cluster, 15/replica on 127.0.0.1:5433: what DATABASE_READ_URL points at in tests (tests/helpers/replica.ts)
# and what deploy/ describes for a real read replica. Run as root (pg_createcluster, pg_ctlcluster).
#
#   scripts/pg-replica.sh up     create it if missing, (re)build it from a base backup if it is not a standby
#                                or cannot catch up, start it. Idempotent: a running, streaming replica is left alone.
#   scripts/pg-replica.sh down   stop it (kept; `up` starts it again)
#   scripts/pg-replica.sh drop   stop and remove it
#
# No replication slot: the primary keeps no WAL for a replica that is away, so a stopped replica can never
# fill the primary's disk; one that fell too far behind is simply rebuilt by `up` (pg_basebackup, seconds here).
#
# The one change to the primary: a pg_hba.conf line letting 127.0.0.1 connect for replication (trust, as its
# other local lines), added once and loaded with pg_reload_conf() — no restart. wal_level=replica and
# max_wal_senders=10 are PostgreSQL 15's defaults.
set -euo pipefail

VERSION=15
PRIMARY_PORT=${PRIMARY_PORT:-5432}
NAME=${REPLICA_CLUSTER:-replica}
PORT=${REPLICA_PORT:-5433}
DATA=/var/lib/postgresql/$VERSION/$NAME
CONF=/etc/postgresql/$VERSION/$NAME
psql_primary() { psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres -qAtX "$@"; }
psql_replica() { psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qAtX "$@"; }
exists() { pg_lsclusters -h | awk -v v="$VERSION" -v n="$NAME" '$1 == v && $2 == n { f = 1 } END { exit !f }'; }
online() { pg_lsclusters -h | awk -v v="$VERSION" -v n="$NAME" '$1 == v && $2 == n && $4 ~ /online/ { f = 1 } END { exit !f }'; }
ctl() { pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" "$@"; }

allow_replication() {
  local hba
  hba=$(psql_primary -c 'SHOW hba_file')
  if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$hba"; then
    echo "pg-replica: allowing replication from 127.0.0.1 in $hba (reload, no restart)"
    printf '\n# gridwatch scripts/pg-replica.sh: the local streaming replica (15/%s) connects here\nhost replication all 127.0.0.1/32 trust\n' "$NAME" >>"$hba"
    psql_primary -c 'SELECT pg_reload_conf()' >/dev/null
  fi
}

configure() {
  # A hot standby needs these at least as large as the primary's, or it refuses to start.
  local settings
  settings=$(psql_primary -F ' = ' -c "SELECT name, setting FROM pg_settings WHERE name IN
    ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')")
  mkdir -p "$CONF/conf.d"
  cat >"$CONF/conf.d/90-gridwatch-replica.conf" <<EOF
# Written by gridwatch scripts/pg-replica.sh
listen_addresses = '127.0.0.1'
port = $PORT
hot_standby = on
hot_standby_feedback = on
autovacuum = off
$settings
EOF
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$CONF/pg_hba.conf"
  chown -R postgres:postgres "$CONF"
}

rebuild() {
  echo "pg-replica: base backup of 127.0.0.1:$PRIMARY_PORT into $DATA"
  online && ctl stop -m fast || true
  find "$DATA" -mindepth 1 -delete
  # -R writes standby.signal and primary_conninfo; -X stream copies the WAL written meanwhile.
  runuser -u postgres -- pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA" -R -X stream -c fast
  ctl start
}

wait_ready() {
  for _ in $(seq 1 60); do
    [ "$(psql_replica -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] && return 0
    sleep 0.5
  done
  return 1
}

# Streaming now, and replayed what the primary had written when asked, within $1 s. A replica stopped for a while
# finds the WAL it needs recycled (no slot; a busy primary recycles within a minute) and never catches up: it is
# rebuilt after a short wait rather than a long one.
caught_up() {
  local target
  target=$(psql_primary -c 'SELECT pg_current_wal_insert_lsn()')
  for _ in $(seq 1 $(($1 * 2))); do
    [ "$(psql_replica -c "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn" 2>/dev/null)" = t ] && return 0
    sleep 0.5
  done
  return 1
}

case "${1:-up}" in
  up)
    allow_replication
    if ! exists; then
      echo "pg-replica: creating cluster $VERSION/$NAME on port $PORT"
      pg_createcluster "$VERSION" "$NAME" -p "$PORT" >/dev/null
      configure
      rebuild
    else
      configure
      online || ctl start || true
      if ! wait_ready || [ ! -f "$DATA/standby.signal" ]; then rebuild; fi
    fi
    wait_ready || { echo "pg-replica: 15/$NAME did not come up as a standby" >&2; exit 1; }
    if ! caught_up 10; then
      echo "pg-replica: not catching up (the WAL it needs recycled?): rebuilding"
      rebuild
      wait_ready && caught_up 60 || { echo "pg-replica: 15/$NAME does not catch up" >&2; exit 1; }
    fi
    echo "pg-replica: 15/$NAME streaming on 127.0.0.1:$PORT"
    ;;
  down) exists && online && ctl stop -m fast || true ;;
  drop) exists && pg_dropcluster --stop "$VERSION" "$NAME" || true ;;
  *) echo "usage: $0 up|down|drop" >&2; exit 2 ;;
esac

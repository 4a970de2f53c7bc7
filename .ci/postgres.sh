#!/usr/bin/env bash
# A throwaway PostgreSQL server for Roster's tests: `start`, `stop`, `url`, `status`.
#
#   bash .ci/postgres.sh start                 # installs PostgreSQL if missing, starts it
#   export ROSTER_TEST_POSTGRES_URL="$(bash .ci/postgres.sh url)"
#   cargo test -p roster-store-postgres
#   bash .ci/postgres.sh stop                  # stops it and removes its files
#
# The cluster lives in a directory of its own under /tmp (under $TMPDIR when not
# root; $ROSTER_PG_DIR chooses another), listens on 127.0.0.1 only (port
# $ROSTER_PG_PORT, default 55432), trusts loopback connections and has the
# superuser `postgres`. It is for tests: fsync is off (ROSTER_PG_DURABLE=1 keeps
# fsync and synchronous commit on, as production has them, for benchmarks). `start` on a running
# server does nothing; `stop` on a stopped one only removes what is left.
#
# As root (CI), the server runs as the `postgres` user (initdb refuses root); when
# no PostgreSQL is found in /usr/lib/postgresql/*/bin or on PATH, the Debian package
# is installed with apt-get. As any other user, it runs as that user.
set -euo pipefail

PORT="${ROSTER_PG_PORT:-55432}"
# As root the server runs as `postgres`, which must reach the directory: /tmp then.
if [ "$(id -u)" = 0 ]; then TMP_PARENT=/tmp; else TMP_PARENT="${TMPDIR:-/tmp}"; fi
BASE="${ROSTER_PG_DIR:-$TMP_PARENT/roster-postgres-$PORT}"
DATA="$BASE/data"
LOG="$BASE/server.log"

die() {
    echo "postgres.sh: $*" >&2
    exit 1
}

# The directory holding initdb, pg_ctl and postgres: the newest Debian version,
# else whatever is on PATH.
find_bindir() {
    local dir best=""
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] || continue
        if [ -z "$best" ] || [ "$(basename "$(dirname "$dir")")" -gt "$(basename "$(dirname "$best")")" ] 2>/dev/null; then
            best="$dir"
        fi
    done
    if [ -z "$best" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        best="$(dirname "$(readlink -f "$(command -v initdb)")")"
    fi
    echo "$best"
}

install_postgres() {
    [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed; install it (apt-get install postgresql) or run as root"
    command -v apt-get >/dev/null || die "PostgreSQL is not installed and apt-get is missing"
    echo "postgres.sh: installing PostgreSQL with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
}

bindir() {
    local dir
    dir="$(find_bindir)"
    if [ -z "$dir" ]; then
        install_postgres
        dir="$(find_bindir)"
    fi
    [ -n "$dir" ] || die "no initdb found after installing PostgreSQL"
    echo "$dir"
}

# Run a command as the server's owner: `postgres` when we are root, from `/` (the
# caller's folder may be one `postgres` cannot enter, a checkout in `mktemp -d` say:
# the tools then warn "could not change directory"; every path here is absolute).
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "user postgres is missing (it comes with the postgresql package)"
        if command -v runuser >/dev/null; then
            (cd / && runuser -u postgres -- "$@")
        else
            (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
        fi
    else
        "$@"
    fi
}

running() {
    [ -f "$DATA/PG_VERSION" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

url() {
    echo "postgres://postgres@127.0.0.1:$PORT/postgres"
}

start() {
    BIN="$(bindir)"
    if running; then
        echo "postgres.sh: already running on 127.0.0.1:$PORT ($BASE)" >&2
        return 0
    fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
        rm -rf "$BASE"
        mkdir -p "$BASE"
        if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$BASE"; fi
        chmod 0700 "$BASE"
        as_owner "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --no-locale \
            --auth-local=trust --auth-host=reject >"$BASE/initdb.log" 2>&1 ||
            { cat "$BASE/initdb.log" >&2; die "initdb failed"; }
        # Trust loopback only; the Unix socket is in the private $BASE.
        as_owner sh -c "cat >'$DATA/pg_hba.conf'" <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
host    all       all   ::1/128       trust
EOF
        as_owner sh -c "cat >>'$DATA/postgresql.conf'" <<EOF

# roster .ci/postgres.sh: a throwaway test server
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$BASE'
max_connections = 200
EOF
        if [ -z "${ROSTER_PG_DURABLE:-}" ]; then
            as_owner sh -c "cat >>'$DATA/postgresql.conf'" <<EOF
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        fi
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null; then
        tail -n 20 "$LOG" >&2 || true
        die "the server did not start (is port $PORT taken?)"
    fi
    echo "postgres.sh: PostgreSQL $("$BIN/pg_ctl" --version | awk '{print $3}') running on 127.0.0.1:$PORT ($BASE)" >&2
}

stop() {
    BIN="$(find_bindir)"
    if [ -n "$BIN" ] && running; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    fi
    rm -rf "$BASE"
    echo "postgres.sh: stopped, $BASE removed" >&2
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) url ;;
status)
    BIN="$(find_bindir)"
    if [ -n "$BIN" ] && running; then echo "running: $(url)"; else
        echo "stopped"
        exit 3
    fi
    ;;
*) die "usage: $0 start|stop|url|status" ;;
esac

#!/usr/bin/env bash
# Start the assistant as a cluster on this machine (`make cluster`; docs/cluster.md): PostgreSQL
# for the conversations, Redis for their locks, CLUSTER_RASA_SERVERS Rasa servers and
# CLUSTER_ACTION_SERVERS action servers, HAProxy in front of them on RASA_PORT and ACTION_PORT,
# and the demo page. Ctrl-C (or SIGTERM) stops them all.
#
# PostgreSQL, Redis and HAProxy come from Debian's packages (scripts/apt-packages.txt) and run
# here as plain processes with their data in CLUSTER_DIR, not as the system's services. Rasa server
# number i listens on 127.0.0.1 at RASA_PORT + i, action server j at ACTION_PORT + j.
set -euo pipefail
source "$(dirname "$0")/servers.sh"

CLUSTER_DIR="${CLUSTER_DIR:-var/cluster}"
ENDPOINTS="${RASA_ENDPOINTS:-deploy/endpoints.yml}"
rasa_ports=() action_ports=()
for i in $(seq 1 "$CLUSTER_RASA_SERVERS"); do rasa_ports+=($((RASA_PORT + i))); done
for j in $(seq 1 "$CLUSTER_ACTION_SERVERS"); do action_ports+=($((ACTION_PORT + j))); done
require_free_ports "$RASA_PORT" "$ACTION_PORT" "$WEB_PORT" "$TRACKER_DB_PORT" "$LOCK_STORE_PORT" \
    "${rasa_ports[@]}" "${action_ports[@]}"
make_api_token
mkdir -p "$CLUSTER_DIR/redis"

# Debian installs PostgreSQL's programs outside the PATH, under /usr/lib/postgresql/<version>/bin.
pg_bin="$(find /usr/lib/postgresql -path '*/bin/postgres' 2>/dev/null | sort -V | tail -n 1 | xargs -r dirname)"
pg_bin="${pg_bin:-$(dirname "$(command -v postgres || echo /missing/postgres)")}"
for program in "$pg_bin/postgres" "$(command -v redis-server || true)" "$(command -v haproxy || true)"; do
    if [ ! -x "$program" ]; then
        echo "error: PostgreSQL, Redis or HAProxy is missing: run \`make setup\` as root" >&2
        exit 1
    fi
done
# PostgreSQL refuses to run as root; then it runs as the postgres user of Debian's package.
db_owner=()
[ "$(id -u)" = 0 ] && db_owner=(setpriv --reuid=postgres --regid=postgres --init-groups --)

# The conversation database, made on the first start. Its password is made with it and kept in
# $CLUSTER_DIR/db-password, readable by this user alone.
pg_dir="$CLUSTER_DIR/pg"
if [ ! -f "$pg_dir/PG_VERSION" ]; then
    echo "==> creating the conversation database in $pg_dir (log: $LOG_DIR/postgres.log)"
    rm -rf "$pg_dir" && mkdir -p "$pg_dir" && chmod 700 "$pg_dir"
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))' >"$CLUSTER_DIR/db-password")
    cp "$CLUSTER_DIR/db-password" "$pg_dir.password"
    [ "$(id -u)" = 0 ] && chown postgres: "$pg_dir" "$pg_dir.password"
    "${db_owner[@]}" "$pg_bin/initdb" -D "$pg_dir" -U "$TRACKER_DB_USER" --pwfile="$pg_dir.password" \
        --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >>"$LOG_DIR/postgres.log" 2>&1
    rm -f "$pg_dir.password"
    echo "CREATE DATABASE $TRACKER_DB_NAME" |
        "${db_owner[@]}" "$pg_bin/postgres" --single -D "$pg_dir" postgres >>"$LOG_DIR/postgres.log" 2>&1
fi
export TRACKER_DB_PASSWORD="${TRACKER_DB_PASSWORD:-$(cat "$CLUSTER_DIR/db-password")}"
# deploy/postgresql.conf's settings, each as -c name=value.
pg_options=(-c "listen_addresses=$TRACKER_DB_HOST" -c unix_socket_directories=)
while IFS= read -r line; do
    line="${line%%#*}"
    [[ "$line" == *=* ]] || continue
    name="${line%%=*}" value="${line#*=}"
    value="${value#"${value%%[![:space:]]*}"}"
    pg_options+=(-c "${name//[[:space:]]/}=${value%"${value##*[![:space:]]}"}")
done <deploy/postgresql.conf

start_postgres() {
    "${db_owner[@]}" "$pg_bin/postgres" -D "$pg_dir" -p "$TRACKER_DB_PORT" "${pg_options[@]}" \
        >>"$LOG_DIR/postgres.log" 2>&1 &
    postgres_pid=$!
    echo "$postgres_pid" >"$RUN_DIR/postgres.pid"
}
start_redis() {
    redis-server deploy/redis.conf --port "$LOCK_STORE_PORT" --bind "$LOCK_STORE_HOST" \
        --dir "$CLUSTER_DIR/redis" >>"$LOG_DIR/redis.log" 2>&1 &
    redis_pid=$!
    echo "$redis_pid" >"$RUN_DIR/redis.pid"
}
start_rasa() {  # number (1, 2, ...)
    start_rasa_server "${rasa_ports[$1 - 1]}" "$ENDPOINTS" "$LOG_DIR/rasa-$1.log" "$RUN_DIR/rasa-$1.pid" \
        --interface 127.0.0.1
    rasa_pids[$1]=$started_pid
}
start_actions() {  # number (1, 2, ...)
    start_action_server "${action_ports[$1 - 1]}" "$LOG_DIR/actions-$1.log" "$RUN_DIR/actions-$1.pid"
    action_pids[$1]=$started_pid
}

# The servers behind HAProxy (deploy/haproxy.cfg has everything else).
servers_cfg="$CLUSTER_DIR/haproxy-servers.cfg"
{
    echo "# Written by scripts/cluster.sh for this machine's cluster."
    echo "backend rasa from rasa_servers"
    for i in "${!rasa_ports[@]}"; do
        echo "    server rasa$((i + 1)) 127.0.0.1:${rasa_ports[$i]} cookie rasa$((i + 1))"
    done
    echo "backend actions from action_servers"
    for j in "${!action_ports[@]}"; do
        echo "    server actions$((j + 1)) 127.0.0.1:${action_ports[$j]}"
    done
} >"$servers_cfg"
start_haproxy() {
    haproxy -db -f deploy/haproxy.cfg -f "$servers_cfg" >>"$LOG_DIR/haproxy.log" 2>&1 &
    haproxy_pid=$!
    echo "$haproxy_pid" >"$RUN_DIR/haproxy.pid"
}

declare -A rasa_pids=() action_pids=()
stop_cluster() {
    # The servers first, then the stores they write to. PostgreSQL stops at once on SIGINT
    # (SIGTERM would wait for every connection to close).
    stop_processes ${web_pid:-} ${haproxy_pid:-} "${rasa_pids[@]}" "${action_pids[@]}"
    stop_processes ${postgres_pid:+$postgres_pid:INT} ${redis_pid:-}
    wait 2>/dev/null || true
}
on_signal() {
    trap - INT TERM EXIT
    echo "==> stopping"
    stop_cluster
    echo "==> stopped"
    exit 0
}
trap on_signal INT TERM
trap stop_cluster EXIT

echo "==> starting PostgreSQL on $TRACKER_DB_HOST:$TRACKER_DB_PORT (log: $LOG_DIR/postgres.log)"
start_postgres
echo "==> starting Redis on $LOCK_STORE_HOST:$LOCK_STORE_PORT (log: $LOG_DIR/redis.log)"
start_redis
wait_for PostgreSQL "$postgres_pid" "$LOG_DIR/postgres.log" \
    "$pg_bin/pg_isready" -q -h "$TRACKER_DB_HOST" -p "$TRACKER_DB_PORT"
wait_for Redis "$redis_pid" "$LOG_DIR/redis.log" redis-cli -h "$LOCK_STORE_HOST" -p "$LOCK_STORE_PORT" ping

echo "==> starting $CLUSTER_ACTION_SERVERS action servers on 127.0.0.1:${action_ports[*]} (logs: $LOG_DIR/actions-N.log)"
for j in $(seq 1 "$CLUSTER_ACTION_SERVERS"); do start_actions "$j"; done
echo "==> starting $CLUSTER_RASA_SERVERS Rasa servers on 127.0.0.1:${rasa_ports[*]} (logs: $LOG_DIR/rasa-N.log)"
for i in $(seq 1 "$CLUSTER_RASA_SERVERS"); do
    : >"$LOG_DIR/rasa-$i.log"
    start_rasa "$i"
done
for j in $(seq 1 "$CLUSTER_ACTION_SERVERS"); do
    wait_for "action server $j" "${action_pids[$j]}" "$LOG_DIR/actions-$j.log" \
        curl -fs "http://127.0.0.1:${action_ports[$j - 1]}/health"
done
for i in $(seq 1 "$CLUSTER_RASA_SERVERS"); do
    wait_for "Rasa server $i" "${rasa_pids[$i]}" "$LOG_DIR/rasa-$i.log" curl -fs "http://127.0.0.1:${rasa_ports[$i - 1]}/"
done
echo "==> starting HAProxy on port $RASA_PORT and $ACTION_HOST:$ACTION_PORT (log: $LOG_DIR/haproxy.log)"
start_haproxy
echo "==> starting the page server on $WEB_HOST:$WEB_PORT (log: $LOG_DIR/web.log)"
start_web_server "$LOG_DIR/web.log"
web_pid=$started_pid
wait_for HAProxy "$haproxy_pid" "$LOG_DIR/haproxy.log" curl -fs "http://127.0.0.1:$RASA_PORT/"
wait_for "page server" "$web_pid" "$LOG_DIR/web.log" curl -fs "http://${WEB_HOST/#0.0.0.0/127.0.0.1}:$WEB_PORT/"
print_ready

# Keep going: a server or store that stops is started again a second later (HAProxy sends
# members to the other servers meanwhile; while PostgreSQL or Redis is down, members get an
# apology); if HAProxy or the web server stops, everything stops. Checked each second (rather
# than on `wait -n`, which may hold back Ctrl-C until a process stops).
while true; do
    sleep 1
    for name in haproxy web; do
        pid_var="${name}_pid"
        if ! kill -0 "${!pid_var}" 2>/dev/null; then
            echo "error: $name stopped unexpectedly; see $LOG_DIR/$name.log" >&2
            exit 1
        fi
    done
    if ! kill -0 "$postgres_pid" 2>/dev/null; then
        echo "==> PostgreSQL stopped; starting it again"
        start_postgres
    fi
    if ! kill -0 "$redis_pid" 2>/dev/null; then
        echo "==> Redis stopped; starting it again"
        start_redis
    fi
    for i in "${!rasa_pids[@]}"; do
        if ! kill -0 "${rasa_pids[$i]}" 2>/dev/null; then
            echo "==> Rasa server $i stopped; starting it again (log: $LOG_DIR/rasa-$i.log)"
            start_rasa "$i"
        fi
    done
    for j in "${!action_pids[@]}"; do
        if ! kill -0 "${action_pids[$j]}" 2>/dev/null; then
            echo "==> action server $j stopped; starting it again (log: $LOG_DIR/actions-$j.log)"
            start_actions "$j"
        fi
    done
done

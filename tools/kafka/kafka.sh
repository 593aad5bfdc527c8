#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft) for tests and local runs, from jars that Maven fetches
# (tools/kafka/pom.xml). No Docker, no download outside Maven Central.
#
#   kafka.sh fetch
#   kafka.sh up     [--port P] [--dir D]   (env KAFKA_PORT, default 9092; env KAFKA_DIR)
#                   [--sasl-ssl [--sasl-port P2]]
#   kafka.sh down   [--dir D]
#   kafka.sh status [--dir D]              (exit 0 running, 3 not running)
#
# --sasl-ssl adds a second listener, SASL_SSL on 127.0.0.1:P2 (a free port unless given) with
# SCRAM-SHA-512, beside the PLAINTEXT one (which the broker and controller keep using). A test CA
# and the broker's keystore are made with keytool in D/tls; the SCRAM user is created when D is
# formatted (env KAFKA_SASL_USERNAME, default padit; KAFKA_SASL_PASSWORD, default random).
# Clients find everything in D/sasl_ssl.env (KAFKA_SASL_BOOTSTRAP, KAFKA_SASL_MECHANISM,
# KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_CA_FILE) and the CA certificate in D/ca.pem.
# A data dir formatted without --sasl-ssl has no SCRAM user: it cannot gain the mode later.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE="$ROOT/.cache/kafka"
LIBS="$CACHE/libs"
PORT="${KAFKA_PORT:-9092}"
DIR="${KAFKA_DIR:-$CACHE/run}"
READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-90}"
STOP_TIMEOUT=30
SASL_SSL=0
SASL_PORT=""
SCRAM_MECHANISM=SCRAM-SHA-512

if [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi

die() { echo "kafka.sh: $*" >&2; exit 1; }
say() { echo "kafka.sh: $*"; }

fetch() {
    # The stamp holds the pom's hash, so a version bump replaces the jars instead of mixing them.
    local stamp
    stamp="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml") $(sha256sum "$HERE/pom.xml" | cut -c1-16)"
    [[ -f "$LIBS/.stamp" && "$(cat "$LIBS/.stamp")" == "$stamp" ]] && return 0
    mkdir -p "$CACHE"
    (
        # Several `up`s at once (parallel test sessions) must not fetch into one dir together.
        flock 9
        [[ -f "$LIBS/.stamp" && "$(cat "$LIBS/.stamp")" == "$stamp" ]] && exit 0
        say "fetching Kafka jars with Maven ($stamp)"
        rm -rf "$LIBS"
        # Quiet Maven still prints terminal escapes: keep its output for failures only.
        mvn -B -q -f "$HERE/pom.xml" package -Dlibs.dir="$LIBS" >"$CACHE/fetch.log" 2>&1 \
            || { cat "$CACHE/fetch.log" >&2; die "mvn failed (log above)"; }
        echo "$stamp" >"$LIBS/.stamp"
    ) 9>"$CACHE/.fetch.lock"
}

# PID of the broker this script started for $DIR, or nothing; a stale or reused pid file is ignored.
broker_pid() {
    local pid cmdline
    [[ -f "$DIR/kafka.pid" ]] || return 0
    pid=$(cat "$DIR/kafka.pid")
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    if [[ "$cmdline" == *"kafka.Kafka $DIR/server.properties"* ]]; then echo "$pid"; fi
}

free_port() {
    "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# SO_REUSEADDR as Java sets it: without it a port just left by a stopped broker (TIME_WAIT
# connections) looks taken, and a restart on the same port would be refused.
port_is_free() {
    "$PY" -c 'import socket as S,sys;s=S.socket();s.setsockopt(S.SOL_SOCKET,S.SO_REUSEADDR,1)
s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null
}

configured_port() {  # the PLAINTEXT port in $DIR/server.properties
    sed -n 's|^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*|\1|p' "$DIR/server.properties" 2>/dev/null
}

# A metadata answer that lists a broker, not just an open port: the socket opens a little before
# the broker has registered with its controller.
PROBE='
import asyncio, sys
from aiokafka.admin import AIOKafkaAdminClient
async def main() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=3000)
    try:
        await asyncio.wait_for(admin.start(), 5)
        cluster = await asyncio.wait_for(admin.describe_cluster(), 5)
        sys.exit(0 if cluster["brokers"] else 1)
    finally:
        await admin.close()
asyncio.run(main())
'

# The same question over SASL_SSL, asked as a client would: TLS verified against the test CA
# (the certificate names 127.0.0.1), then SCRAM.
PROBE_SASL='
import asyncio, os, ssl, sys
from aiokafka.admin import AIOKafkaAdminClient
async def main() -> None:
    ctx = ssl.create_default_context(cafile=sys.argv[2])
    admin = AIOKafkaAdminClient(
        bootstrap_servers=sys.argv[1], request_timeout_ms=3000, security_protocol="SASL_SSL",
        ssl_context=ctx, sasl_mechanism=sys.argv[3], sasl_plain_username=sys.argv[4],
        sasl_plain_password=os.environ["KAFKA_SASL_PASSWORD"])
    try:
        await asyncio.wait_for(admin.start(), 5)
        cluster = await asyncio.wait_for(admin.describe_cluster(), 5)
        sys.exit(0 if cluster["brokers"] else 1)
    finally:
        await admin.close()
asyncio.run(main())
'

answers() {  # $1 port
    (: </dev/tcp/127.0.0.1/"$1") 2>/dev/null || return 1
    if "$PY" -c 'import aiokafka' 2>/dev/null; then
        "$PY" -c "$PROBE" "127.0.0.1:$1" >/dev/null 2>&1
    fi
}

wait_ready() {  # $1 pid, $2 port
    local deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$1" 2>/dev/null; then
            tail -n 60 "$DIR/server.log" "$DIR/stdout.log" 2>/dev/null >&2 || true
            die "broker exited during startup (logs above, in $DIR)"
        fi
        answers "$2" && return 0
        sleep 0.2
    done
    tail -n 60 "$DIR/server.log" "$DIR/stdout.log" 2>/dev/null >&2 || true
    die "broker did not answer on 127.0.0.1:$2 within ${READY_TIMEOUT}s (logs above, in $DIR)"
}

sasl_answers() {  # $1 port; after sasl_load
    (: </dev/tcp/127.0.0.1/"$1") 2>/dev/null || return 1
    "$PY" -c 'import aiokafka' 2>/dev/null || return 0
    # The password through the environment: command lines are visible to every local user.
    KAFKA_SASL_PASSWORD="$KAFKA_SASL_PASSWORD" "$PY" -c "$PROBE_SASL" "127.0.0.1:$1" \
        "$DIR/ca.pem" "$SCRAM_MECHANISM" "$KAFKA_SASL_USERNAME" >/dev/null 2>&1
}

wait_sasl_ready() {  # $1 pid, $2 port
    local deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        kill -0 "$1" 2>/dev/null || die "broker exited during startup (logs in $DIR)"
        sasl_answers "$2" && return 0
        sleep 0.3
    done
    tail -n 60 "$DIR/server.log" 2>/dev/null >&2 || true
    die "no SASL_SSL answer on 127.0.0.1:$2 within ${READY_TIMEOUT}s (logs above, in $DIR)"
}

configured_sasl_port() {  # the SASL_SSL port in $DIR/server.properties, or nothing
    sed -n 's|^listeners=.*SASL_SSL://127.0.0.1:\([0-9]*\).*|\1|p' "$DIR/server.properties" 2>/dev/null
}

# The SCRAM user of $DIR (from $DIR/sasl_ssl.env) into KAFKA_SASL_USERNAME/PASSWORD.
sasl_load() {
    [[ -f "$DIR/sasl_ssl.env" ]] || return 1
    KAFKA_SASL_USERNAME=$(sed -n 's/^KAFKA_SASL_USERNAME=//p' "$DIR/sasl_ssl.env")
    KAFKA_SASL_PASSWORD=$(sed -n 's/^KAFKA_SASL_PASSWORD=//p' "$DIR/sasl_ssl.env")
}

sasl_write_env() {  # $1 port
    local tmp="$DIR/sasl_ssl.env.tmp"
    (
        umask 077
        printf '%s\n' "KAFKA_SASL_BOOTSTRAP=127.0.0.1:$1" \
            "KAFKA_SASL_MECHANISM=$SCRAM_MECHANISM" \
            "KAFKA_SASL_USERNAME=$KAFKA_SASL_USERNAME" \
            "KAFKA_SASL_PASSWORD=$KAFKA_SASL_PASSWORD" \
            "KAFKA_CA_FILE=$DIR/ca.pem" >"$tmp"
    )
    mv "$tmp" "$DIR/sasl_ssl.env"
}

# A test CA and a broker certificate for 127.0.0.1/localhost signed by it, in a PKCS12
# keystore: made once per data dir (restarts keep them, so clients keep trusting ca.pem).
make_tls() {
    local tls="$DIR/tls" tmp pass
    [[ -f "$tls/broker.p12" && -f "$tls/store.pass" && -f "$DIR/ca.pem" ]] && return 0
    command -v keytool >/dev/null || die "keytool (a JDK) is needed for --sasl-ssl"
    tmp=$(mktemp -d "$DIR/tls.XXXXXX")
    pass=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    local kt=(keytool -storetype PKCS12 -storepass "$pass" -keypass "$pass")
    {
        "${kt[@]}" -genkeypair -keystore "$tmp/ca.p12" -alias ca -keyalg RSA -keysize 2048 \
            -validity 3650 -dname "CN=PADIT test CA" -ext bc:c=ca:true \
            -ext KU:c=keyCertSign,cRLSign
        "${kt[@]}" -exportcert -rfc -keystore "$tmp/ca.p12" -alias ca -file "$tmp/ca.pem"
        "${kt[@]}" -genkeypair -keystore "$tmp/broker.p12" -alias broker -keyalg RSA \
            -keysize 2048 -validity 3650 -dname "CN=localhost"
        "${kt[@]}" -certreq -keystore "$tmp/broker.p12" -alias broker -file "$tmp/broker.csr"
        "${kt[@]}" -gencert -keystore "$tmp/ca.p12" -alias ca -infile "$tmp/broker.csr" \
            -outfile "$tmp/broker.pem" -rfc -validity 3650 \
            -ext SAN=IP:127.0.0.1,DNS:localhost -ext KU:c=digitalSignature,keyEncipherment \
            -ext EKU=serverAuth
        "${kt[@]}" -importcert -noprompt -keystore "$tmp/broker.p12" -alias ca -file "$tmp/ca.pem"
        "${kt[@]}" -importcert -keystore "$tmp/broker.p12" -alias broker -file "$tmp/broker.pem"
    } >"$tmp/keytool.log" 2>&1 || { cat "$tmp/keytool.log" >&2; die "keytool failed (log above)"; }
    # The CA's private key is not needed after signing: only its certificate is kept.
    rm -f "$tmp/ca.p12" "$tmp/broker.csr"
    echo "$pass" >"$tmp/store.pass"
    chmod 600 "$tmp/store.pass" "$tmp/broker.p12"
    rm -rf "$tls"
    mv "$tmp" "$tls"
    cp "$tls/ca.pem" "$DIR/ca.pem"
}

write_config() {
    local cport="$1" listeners advertised protomap
    mkdir -p "$DIR/data" "$DIR/logs"
    listeners="PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$cport"
    advertised="PLAINTEXT://127.0.0.1:$PORT"
    protomap="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    if ((SASL_SSL)); then
        # PLAINTEXT stays first: configured_port reads it from this line.
        listeners="PLAINTEXT://127.0.0.1:$PORT,SASL_SSL://127.0.0.1:$SASL_PORT,CONTROLLER://127.0.0.1:$cport"
        advertised="$advertised,SASL_SSL://127.0.0.1:$SASL_PORT"
        protomap="$protomap,SASL_SSL:SASL_SSL"
    fi
    # Static voters, not `format --standalone`: a dynamic quorum stores the controller's endpoint
    # in the metadata log, and a restart on a new controller port would then point at nothing.
    cat >"$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$listeners
advertised.listeners=$advertised
listener.security.protocol.map=$protomap
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
min.insync.replicas=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a SIGKILL the controller refuses the broker's new registration until the old session
# expires (9 s by default): shorter, so a killed broker comes back fast.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
EOF
    if ((SASL_SSL)); then
        local pass
        pass=$(cat "$DIR/tls/store.pass")
        # The broker and controller stay on PLAINTEXT: only clients use the SASL_SSL listener.
        cat >>"$DIR/server.properties" <<EOF
sasl.enabled.mechanisms=$SCRAM_MECHANISM
listener.name.sasl_ssl.sasl.enabled.mechanisms=$SCRAM_MECHANISM
listener.name.sasl_ssl.${SCRAM_MECHANISM,,}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$DIR/tls/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$pass
listener.name.sasl_ssl.ssl.key.password=$pass
listener.name.sasl_ssl.ssl.client.auth=none
EOF
    fi
    cat >"$DIR/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $DIR/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
EOF
}

up() {
    local pid cport cur t0=$SECONDS
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    pid=$(broker_pid)
    if [[ -n "$pid" ]]; then
        cur=$(configured_port)
        [[ "$cur" == "$PORT" ]] || die "a broker (pid $pid) already runs for $DIR on port $cur"
        wait_ready "$pid" "$PORT"
        if ((SASL_SSL)); then
            cur=$(configured_sasl_port)
            [[ -n "$cur" ]] || die "a broker (pid $pid) already runs for $DIR without SASL_SSL"
            [[ -z "$SASL_PORT" || "$SASL_PORT" == "$cur" ]] \
                || die "a broker (pid $pid) already runs for $DIR with SASL_SSL on port $cur"
            sasl_load || die "$DIR/sasl_ssl.env is missing"
            wait_sasl_ready "$pid" "$cur"
            say "already running (pid $pid) on 127.0.0.1:$PORT, SASL_SSL on 127.0.0.1:$cur, dir $DIR"
            return 0
        fi
        say "already running (pid $pid) on 127.0.0.1:$PORT, dir $DIR"
        return 0
    fi
    port_is_free "$PORT" || die "port $PORT on 127.0.0.1 is in use by something else"
    if ((SASL_SSL)); then
        if [[ -f "$DIR/data/meta.properties" ]] && ! sasl_load; then
            die "$DIR was formatted without --sasl-ssl (it has no SCRAM user): use a new --dir"
        fi
        if [[ -z "$SASL_PORT" ]]; then
            # Keep the port of an earlier run when it is still free, as for the controller.
            SASL_PORT=$(sed -n 's/^KAFKA_SASL_BOOTSTRAP=127.0.0.1://p' "$DIR/sasl_ssl.env" 2>/dev/null || true)
            if [[ -z "$SASL_PORT" ]] || ! port_is_free "$SASL_PORT"; then SASL_PORT=$(free_port); fi
        fi
        [[ "$SASL_PORT" != "$PORT" ]] || die "--sasl-port must differ from --port"
        port_is_free "$SASL_PORT" || die "port $SASL_PORT on 127.0.0.1 is in use by something else"
        make_tls
    fi
    fetch
    # Keep the controller port of an earlier run when it is still free (restarts keep their data).
    cport=$(sed -n 's|^controller.quorum.voters=1@127.0.0.1:\([0-9]*\)$|\1|p' "$DIR/server.properties" 2>/dev/null || true)
    if [[ -z "$cport" ]] || ! port_is_free "$cport"; then cport=$(free_port); fi
    write_config "$cport"
    local java=(java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
        "-Dlog4j2.configurationFile=$DIR/log4j2.properties" "-Dkafka.logs.dir=$DIR/logs"
        -cp "$LIBS/*")
    if [[ ! -f "$DIR/data/meta.properties" ]]; then
        local cluster_id
        cluster_id=$("$PY" -c 'import base64,os
while True:
    u=base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
    if not u.startswith("-"): print(u); break')
        local scram=()
        if ((SASL_SSL)); then
            KAFKA_SASL_USERNAME="${KAFKA_SASL_USERNAME:-padit}"
            KAFKA_SASL_PASSWORD="${KAFKA_SASL_PASSWORD:-$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')}"
            [[ "$KAFKA_SASL_USERNAME$KAFKA_SASL_PASSWORD" =~ ^[A-Za-z0-9._-]+$ ]] \
                || die "KAFKA_SASL_USERNAME/PASSWORD: only letters, digits, '.', '_', '-'"
            # The credential goes into the first metadata records: no admin client is needed.
            scram=(--add-scram "$SCRAM_MECHANISM=[name=$KAFKA_SASL_USERNAME,password=$KAFKA_SASL_PASSWORD]")
        fi
        "${java[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$DIR/server.properties" \
            "${scram[@]}" >"$DIR/format.log" 2>&1 \
            || { cat "$DIR/format.log" >&2; die "storage format failed"; }
    fi
    if ((SASL_SSL)); then sasl_write_env "$SASL_PORT"; fi
    # setsid: the broker must outlive this script and not get the caller's terminal signals.
    setsid nohup "${java[@]}" kafka.Kafka "$DIR/server.properties" \
        >"$DIR/stdout.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$DIR/kafka.pid"
    wait_ready "$pid" "$PORT"
    if ((SASL_SSL)); then
        wait_sasl_ready "$pid" "$SASL_PORT"
        say "up (pid $pid) on 127.0.0.1:$PORT, SASL_SSL on 127.0.0.1:$SASL_PORT" \
            "in $((SECONDS - t0))s, dir $DIR (clients: $DIR/sasl_ssl.env)"
        return 0
    fi
    say "up (pid $pid) on 127.0.0.1:$PORT in $((SECONDS - t0))s, dir $DIR"
}

down() {
    local pid deadline
    [[ -d "$DIR" ]] || { say "not running (no $DIR)"; return 0; }
    DIR=$(cd "$DIR" && pwd)
    pid=$(broker_pid)
    if [[ -z "$pid" ]]; then
        rm -f "$DIR/kafka.pid"
        say "not running ($DIR)"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        say "no exit after ${STOP_TIMEOUT}s: SIGKILL $pid"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$DIR/kafka.pid"
    say "stopped (pid $pid)"
}

status() {
    local pid
    [[ -d "$DIR" ]] && DIR=$(cd "$DIR" && pwd)
    pid=$(broker_pid)
    if [[ -z "$pid" ]]; then say "not running ($DIR)"; return 3; fi
    local port rss
    port=$(configured_port)
    rss=$(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$pid/status" 2>/dev/null || true)
    local sport extra=""
    sport=$(configured_sasl_port)
    if [[ -n "$sport" ]]; then extra=", SASL_SSL on 127.0.0.1:$sport"; fi
    if answers "$port"; then
        say "running (pid $pid, rss $rss) on 127.0.0.1:$port$extra, dir $DIR"
    else
        say "started but not answering (pid $pid) on 127.0.0.1:$port, dir $DIR"
    fi
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
while [[ $# -gt 0 ]]; do
    case "$1" in
        --port) PORT="${2:?--port needs a value}"; shift 2 ;;
        --dir) DIR="${2:?--dir needs a value}"; shift 2 ;;
        --sasl-ssl) SASL_SSL=1; shift ;;
        --sasl-port) SASL_PORT="${2:?--sasl-port needs a value}"; shift 2 ;;
        *) die "unknown argument: $1" ;;
    esac
done

case "$cmd" in
    fetch) fetch ;;
    up) up ;;
    down) down ;;
    status) status ;;
    *) die "usage: kafka.sh fetch | up [--port P] [--dir D] [--sasl-ssl [--sasl-port P2]]" \
        "| down [--dir D] | status [--dir D]" ;;
esac

# Sourced by the benchmarks: serves one zone with NSD on 127.0.0.1 (no RRL, transfers allowed).
#   start_nsd WORK PORT ZONE ZONEFILE     (stop it with: kill "$(cat WORK/nsd.pid)")
start_nsd() {
    local work=$1 port=$2 zone=$3 zonefile=$4
    cat > "$work/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$port
  username: ""
  chroot: ""
  database: ""
  zonelistfile: "$work/zone.list"
  xfrdfile: "$work/xfrd.state"
  zonesdir: "$work"
  pidfile: "$work/nsd.pid"
  logfile: "$work/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "$zone"
  zonefile: "$zonefile"
  provide-xfr: 127.0.0.1 NOKEY
CONF
    nsd -c "$work/nsd.conf"
    for _ in $(seq 100); do
        kdig +short -p "$port" @127.0.0.1 "$zone" SOA 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    echo "NSD did not start: $(cat "$work/nsd.log" 2>/dev/null)" >&2
    return 1
}

# Stops the NSD that start_nsd started (by the pid it wrote) and waits until it has exited, so
# that nothing is still writing in WORK when it is removed.
stop_nsd() {
    local work=$1 pid
    pid=$(cat "$work/nsd.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
}

#!/usr/bin/env bash
# Benchmark: `dns-audit check` next to dnsperf over the same query set, on the same NSD, on loopback.
#
#   benches/check_vs_dnsperf.sh [HOSTS]        (default 20000 hosts, A + AAAA each)
#
# Needs: nsd, dnsperf, knot-dnsutils (kdig), time (apt-get install -y nsd dnsperf knot-dnsutils time).
# Prints queries per second of both, their ratio (target >= 0.5) and dns-audit's peak memory
# (target < 100 MB). All traffic goes to 127.0.0.1.
set -euo pipefail
HOSTS=${1:-20000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/benches/nsd.sh"
WORK=$(mktemp -d)
trap 'stop_nsd "$WORK"; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ZONE=fleet.example.net

cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" -q
BIN="$ROOT/target/release/dns-audit"

mkdir -p "$WORK/expected"
python3 - "$HOSTS" "$WORK/expected/$ZONE.zone" <<'PY'
import sys
hosts, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("$ORIGIN fleet.example.net.\n$TTL 300\n")
    f.write("@ IN SOA ns1 hostmaster 1 3600 900 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n")
    for i in range(hosts):
        f.write(f"bh{i} IN A 198.{18 + ((i >> 16) & 1)}.{(i >> 8) & 255}.{i & 255}\n")
        f.write(f"bh{i} IN AAAA 2001:db8::{i:x}\n")
PY
# The query path is what is measured (the shared NSD set-up allows transfers).
printf 'concurrency = 64\ntimeout_ms = 2000\naxfr = "never"\n' > "$WORK/expected/dns-audit.toml"

start_nsd "$WORK" "$PORT" "$ZONE" "$WORK/expected/$ZONE.zone"

# The query set dns-audit sends: every name x (its types + A AAAA CNAME MX TXT NS SRV CAA), plus SOA.
python3 - "$WORK/expected/$ZONE.zone" > "$WORK/queries.txt" <<'PY'
import sys
probe = ["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA"]
names = {}
for line in open(sys.argv[1]):
    if line.startswith("$"): continue
    owner, _, rtype = line.split()[:3]
    names.setdefault(owner, set()).add(rtype)
print("fleet.example.net. SOA")
for owner, types in names.items():
    fq = "fleet.example.net." if owner == "@" else owner + ".fleet.example.net."
    for t in sorted((types | set(probe)) - {"SOA"}):
        print(fq, t)
PY
QUERIES=$(wc -l < "$WORK/queries.txt")

# dnsperf 2.10 has no switch for RD=0; NSD is authoritative-only and ignores RD, so the work per
# query is the same. The set is sent once, with EDNS (as dns-audit) and 64 outstanding queries.
# dnsperf's best of three runs (it varies by a third between runs on a small machine).
DNSPERF_QPS=0
for _ in 1 2 3; do
    DNSPERF_OUT=$(dnsperf -s 127.0.0.1 -p "$PORT" -d "$WORK/queries.txt" -n 1 -q 64 -t 5 -e 2>&1)
    QPS=$(echo "$DNSPERF_OUT" | awk '/Queries per second/ {print $4}')
    if python3 -c "import sys; sys.exit(0 if float('$QPS') > float('$DNSPERF_QPS') else 1)"; then
        DNSPERF_QPS=$QPS
        DNSPERF_LOST=$(echo "$DNSPERF_OUT" | awk '/Queries lost/ {print $3}')
    fi
done

# dns-audit: load, query, compare, report, as one process.
START=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$WORK/mem" "$BIN" check --no-record --expected "$WORK/expected" \
    --nameserver "ns1=127.0.0.1:$PORT" --format json > "$WORK/report.json" || true
END=$(date +%s.%N)
SENT=$(python3 -c "import json; r=json.load(open('$WORK/report.json')); print(r['summary']['queries'], r['verdict'], r['exit_code'])")
read -r AUDIT_QUERIES VERDICT CODE <<<"$SENT"
AUDIT_SECS=$(python3 -c "print(f'{$END - $START:.2f}')")
AUDIT_QPS=$(python3 -c "print(int($AUDIT_QUERIES / ($END - $START)))")
PEAK_MB=$(python3 -c "print(f'{$(cat "$WORK/mem") / 1024:.1f}')")
RATIO=$(python3 -c "print(f'{$AUDIT_QPS / $DNSPERF_QPS:.2f}')")

echo "hosts:              $HOSTS (A + AAAA), $QUERIES queries in the set"
echo "dnsperf:            $DNSPERF_QPS q/s (lost: $DNSPERF_LOST)"
echo "dns-audit check:    $AUDIT_QPS q/s, $AUDIT_QUERIES queries in $AUDIT_SECS s, verdict $VERDICT (exit $CODE)"
echo "ratio:              $RATIO (target >= 0.50)"
echo "peak memory:        $PEAK_MB MB (target < 100 MB)"

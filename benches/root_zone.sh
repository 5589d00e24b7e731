#!/usr/bin/env bash
# Benchmark: the real IANA root zone (24,911 records: delegations, glue, DNSSEC) served by NSD on
# 127.0.0.1, audited by dns-audit by AXFR and by queries, next to kdig, dnsperf and nsd-checkzone
# in the same run.
#
#   benches/root_zone.sh [ZONEFILE]   (default: ../shared/data/root.zone, else tests/fixtures/root.zone.gz)
#
# Needs: nsd, dnsperf, knot-dnsutils (kdig), time (apt-get install -y nsd dnsperf knot-dnsutils time).
# Targets (issue 3): AXFR audit within 5x a bare kdig AXFR; queries at >= 50% of dnsperf's rate;
# peak memory < 100 MB; zone loading within 3x nsd-checkzone. All traffic goes to 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/benches/nsd.sh"
WORK=$(mktemp -d)
trap 'stop_nsd "$WORK"; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/expected"
SRC=${1:-$ROOT/../shared/data/root.zone}
if [ -f "$SRC" ]; then cp "$SRC" "$WORK/expected/root.zone"; else gunzip -c "$ROOT/tests/fixtures/root.zone.gz" > "$WORK/expected/root.zone"; fi
# The 2023 signatures have expired: expiry warnings are not what is measured.
printf 'signature_warn_days = 0\nconcurrency = 64\n' > "$WORK/expected/dns-audit.toml"
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" -q
BIN="$ROOT/target/release/dns-audit"

start_nsd "$WORK" "$PORT" "." "$WORK/expected/root.zone"

# best of N wall-clock seconds of a command
best() { local n=$1; shift; python3 - "$n" "$@" <<'PY'
import subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(n):
    t = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); times.append(time.perf_counter() - t)
print(f"{min(times):.3f}")
PY
}

CHECKZONE=$(best 5 nsd-checkzone . "$WORK/expected/root.zone")
LOAD=$(best 5 "$BIN" check --no-record --expected "$WORK/expected" --plan)
KDIG=$(best 5 kdig -p "$PORT" @127.0.0.1 . AXFR)
AXFR=$(best 5 "$BIN" check --no-record --expected "$WORK/expected" --nameserver "127.0.0.1:$PORT" --axfr always)
/usr/bin/time -f "%M" -o "$WORK/mem-axfr" "$BIN" check --no-record --expected "$WORK/expected" --nameserver "127.0.0.1:$PORT" --axfr always --format json > "$WORK/axfr.json"

"$BIN" check --no-record --expected "$WORK/expected" --plan > "$WORK/queries.txt"
QUERIES=$(wc -l < "$WORK/queries.txt")
# dnsperf's best of three runs (it varies by a third between runs on a small machine).
DNSPERF_QPS=$(for _ in 1 2 3; do dnsperf -s 127.0.0.1 -p "$PORT" -d "$WORK/queries.txt" -n 1 -q 64 -t 5 -e 2>&1 | awk '/Queries per second/ {print $4}'; done | sort -g | tail -1)
# The naive query set: one question per probe, as before identical questions were merged (a
# delegation's NS asked again for each of its glue RRsets). Wall time of dnsperf over it is what
# an audit that does not merge them would at best take.
"$BIN" show "$WORK/expected/root.zone" | python3 -c '
import sys
records = [l.split("\t") for l in sys.stdin.read().splitlines() if l and not l.startswith(";")]
cuts = {r[0].lower() for r in records if r[3] == "NS" and r[0] != "."}
def cut_of(name):
    labels = name.lower().split(".")
    for i in range(1, len(labels) - 1):
        parent = ".".join(labels[i:])
        if parent in cuts:
            return parent
glue = {(r[0].lower(), r[3]) for r in records if r[3] in ("A", "AAAA") and cut_of(r[0])}
for line in open(sys.argv[1]):
    print(line, end="")
for owner, rtype in sorted(glue):
    print(f"{cut_of(owner)} NS")
' "$WORK/queries.txt" > "$WORK/naive.txt"
NAIVE=$(wc -l < "$WORK/naive.txt")
NAIVE_S=$(for _ in 1 2 3; do dnsperf -s 127.0.0.1 -p "$PORT" -d "$WORK/naive.txt" -n 1 -q 64 -t 5 -e 2>&1 | awk '/Run time \(s\)/ {print $4}'; done | sort -g | head -1)
BYQ=$(best 3 "$BIN" check --no-record --expected "$WORK/expected" --nameserver "127.0.0.1:$PORT" --axfr never)
/usr/bin/time -f "%M" -o "$WORK/mem-q" "$BIN" check --no-record --expected "$WORK/expected" --nameserver "127.0.0.1:$PORT" --axfr never --format json > "$WORK/q.json"

python3 - "$WORK" "$CHECKZONE" "$LOAD" "$KDIG" "$AXFR" "$QUERIES" "$DNSPERF_QPS" "$BYQ" "$NAIVE" "$NAIVE_S" <<'PY'
import json, sys
work, checkzone, load, kdig, axfr, queries, dnsperf, byq, naive, naive_s = sys.argv[1], *map(float, sys.argv[2:])
ax, q = json.load(open(f"{work}/axfr.json")), json.load(open(f"{work}/q.json"))
mem_ax = int(open(f"{work}/mem-axfr").read()) / 1024
mem_q = int(open(f"{work}/mem-q").read()) / 1024
sent = q["summary"]["queries"]
print(f"zone loading:   dns-audit {load:.3f} s (load + plan), nsd-checkzone {checkzone:.3f} s: {load / checkzone:.1f}x (target <= 3x)")
print(f"by AXFR:        dns-audit {axfr:.3f} s (load, transfer, compare, report), kdig AXFR {kdig:.3f} s: {axfr / kdig:.1f}x (target <= 5x); {ax['verdict']}, {sum(ax['summary'][k] for k in ('drift','failures','warnings'))} findings; peak {mem_ax:.1f} MB")
print(f"by queries:     dns-audit {sent / byq:,.0f} q/s ({sent} queries in {byq:.3f} s), dnsperf {dnsperf:,.0f} q/s over the same {int(queries)} queries: {sent / byq / dnsperf:.2f} (target >= 0.50); {q['verdict']}, {sum(q['summary'][k] for k in ('drift','failures','warnings'))} findings; peak {mem_q:.1f} MB")
print(f"wall time:      dns-audit {byq:.3f} s for the whole audit by queries; dnsperf {naive_s:.3f} s to send the naive set ({int(naive)} queries, one per probe): {byq / naive_s:.2f}x")
print(f"                (the whole process: load, plan, queries, compare, report; the query phase alone, without the {load:.3f} s of load + plan: {sent / (byq - load):,.0f} q/s, {sent / (byq - load) / dnsperf:.2f})")
PY

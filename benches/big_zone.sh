#!/usr/bin/env bash
# Benchmark: a generated zone of a million records (HOSTS hosts, each with A, AAAA, TXT and a
# `www` CNAME, plus SOA, NS and glue: 4 * HOSTS + 5 records) served by NSD on 127.0.0.1, audited
# by dns-audit, next to nsd-checkzone, kdig and dnsperf in the same run. Time and peak memory
# (maximum resident set size) are measured with /usr/bin/time, never guessed.
#
#   benches/big_zone.sh [HOSTS]      (default 250000: 1,000,005 records)
#
# Needs: nsd, knot-dnsutils (kdig), dnsperf, time, python3.
# Targets (issue 18): load + plan within 1.5x nsd-checkzone; peak memory of the whole AXFR audit
# within 2x nsd-checkzone's; the AXFR audit within 2x a bare kdig AXFR; with the history store,
# a run where nothing changed within 1.3x the unrecorded run and the first within 2x; the store
# under 100 MB; by queries at least 0.5 of dnsperf's rate over the same queries.
# All traffic goes to 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/benches/nsd.sh"
HOSTS=${1:-250000}
WORK=$(mktemp -d)
trap 'stop_nsd "$WORK"; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/expected" "$WORK/state"
ZONEFILE="$WORK/expected/big.example.zone"
python3 - "$HOSTS" "$ZONEFILE" <<'PY'
import sys
hosts, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("$ORIGIN big.example.\n$TTL 3600\n"
            "@ IN SOA ns1 hostmaster ( 2026113001 3600 900 1209600 300 )\n"
            "@ IN NS ns1\n@ IN NS ns2\nns1 IN A 127.0.0.1\nns2 IN A 127.0.0.2\n")
    for i in range(hosts):
        f.write(f"h{i} IN A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n"
                f"h{i} IN AAAA 2001:db8::{i >> 16:x}:{i & 0xffff:x}\n"
                f"h{i} IN TXT \"host {i} owner team-{i % 97}\"\n"
                f"www.h{i} IN CNAME h{i}\n")
PY
RECORDS=$((4 * HOSTS + 5))
printf 'signature_warn_days = 0\nconcurrency = 64\n' > "$WORK/expected/dns-audit.toml"
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" -q
BIN="$ROOT/target/release/dns-audit"
start_nsd "$WORK" "$PORT" big.example "$ZONEFILE"

# best of N: "seconds peak_kB" of a command (its output thrown away)
best() { local n=$1; shift; python3 - "$n" "$@" <<'PY'
import subprocess, sys
n, cmd = int(sys.argv[1]), sys.argv[2:]
runs = []
for _ in range(n):
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True).stderr.strip().splitlines()[-1]
    seconds, kb = out.split()
    runs.append((float(seconds), int(kb)))
print(f"{min(r[0] for r in runs):.2f} {max(r[1] for r in runs)}")
PY
}
AUDIT=("$BIN" check --expected "$WORK/expected" --nameserver "127.0.0.1:$PORT")

read -r CHECKZONE CHECKZONE_KB < <(best 3 nsd-checkzone big.example "$ZONEFILE")
read -r PLAN PLAN_KB < <(best 3 "$BIN" check --no-record --expected "$WORK/expected" --plan)
read -r KDIG KDIG_KB < <(best 3 kdig -p "$PORT" @127.0.0.1 big.example AXFR)
read -r AXFR AXFR_KB < <(best 3 "${AUDIT[@]}" --no-record --axfr always)
"${AUDIT[@]}" --no-record --axfr always --format json > "$WORK/axfr.json" || true

# The history store: a first run (a fresh store each time), then runs where nothing changed.
FIRST=$(for i in 1 2 3; do
    rm -f "$WORK/state/h.sqlite"*
    best 1 "${AUDIT[@]}" --state "$WORK/state/h.sqlite" --axfr always | cut -d' ' -f1
done | sort -g | head -1)
read -r SAME SAME_KB < <(best 3 "${AUDIT[@]}" --state "$WORK/state/h.sqlite" --axfr always)
STORE=$(du -k "$WORK/state/h.sqlite" | cut -f1)

# By queries: the same audit with transfers off, beside dnsperf over the queries it sends.
"$BIN" check --no-record --expected "$WORK/expected" --plan > "$WORK/queries.txt"
QUERIES=$(wc -l < "$WORK/queries.txt")
DNSPERF_QPS=$(for _ in 1 2; do dnsperf -s 127.0.0.1 -p "$PORT" -d "$WORK/queries.txt" -n 1 -q 64 -t 5 -e 2>&1 | awk '/Queries per second/ {print $4}'; done | sort -g | tail -1)
read -r BYQ BYQ_KB < <(best 1 "${AUDIT[@]}" --no-record --axfr never)
"${AUDIT[@]}" --no-record --axfr never --format json > "$WORK/q.json" || true

python3 - "$WORK" "$RECORDS" "$CHECKZONE" "$CHECKZONE_KB" "$PLAN" "$PLAN_KB" "$KDIG" "$AXFR" "$AXFR_KB" \
    "$FIRST" "$SAME" "$SAME_KB" "$STORE" "$QUERIES" "$DNSPERF_QPS" "$BYQ" "$BYQ_KB" <<'PY'
import json, sys
work = sys.argv[1]
(records, checkzone, checkzone_kb, plan, plan_kb, kdig, axfr, axfr_kb, first, same, same_kb,
 store_kb, queries, dnsperf, byq, byq_kb) = map(float, sys.argv[2:])
mb = lambda kb: kb / 1024
ax, q = json.load(open(f"{work}/axfr.json")), json.load(open(f"{work}/q.json"))
sent = q["summary"]["queries"]
def row(what, ours, ref, ratio, target, ok):
    print(f"| {what} | {ours} | {ref} | {ratio} | {target} | {'yes' if ok else 'NO'} |")
print(f"{int(records):,} records, NSD on 127.0.0.1; AXFR audit {ax['verdict']}, by queries {q['verdict']}")
print("| | dns-audit | reference | ratio | target | met |")
print("|---|---|---|---|---|---|")
row("load + plan (`check --plan`)", f"{plan:.2f} s, {mb(plan_kb):.0f} MB", f"nsd-checkzone {checkzone:.2f} s, {mb(checkzone_kb):.0f} MB",
    f"{plan / checkzone:.2f}x", "<= 1.5x", plan / checkzone <= 1.5)
row("whole AXFR audit, `--no-record`", f"{axfr:.2f} s", f"kdig AXFR {kdig:.2f} s", f"{axfr / kdig:.2f}x", "<= 2x", axfr / kdig <= 2)
row("its peak memory", f"{mb(axfr_kb):.0f} MB", f"nsd-checkzone {mb(checkzone_kb):.0f} MB", f"{axfr_kb / checkzone_kb:.2f}x", "<= 2x", axfr_kb / checkzone_kb <= 2)
row("first recorded run", f"{first:.2f} s", f"unrecorded {axfr:.2f} s", f"{first / axfr:.2f}x", "<= 2x", first / axfr <= 2)
row("recorded run, nothing changed", f"{same:.2f} s, {mb(same_kb):.0f} MB", f"unrecorded {axfr:.2f} s", f"{same / axfr:.2f}x", "<= 1.3x", same / axfr <= 1.3)
row("history store after them", f"{mb(store_kb):.0f} MB", "", "", "< 100 MB", mb(store_kb) < 100)
row("by queries (`--axfr never`)", f"{sent / byq:,.0f} q/s ({int(sent):,} in {byq:.1f} s), {mb(byq_kb):.0f} MB",
    f"dnsperf {dnsperf:,.0f} q/s", f"{sent / byq / dnsperf:.2f}", ">= 0.5", sent / byq / dnsperf >= 0.5)
PY

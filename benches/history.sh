#!/usr/bin/env bash
# Benchmark: the history store after a year of 5-minute runs (105,120 runs) over 1,000 names on
# two servers with 500 changes, and `dns-audit recent --offline` over it.
#
#   benches/history.sh
#
# Targets (issue 4): recent --offline answers in under 200 ms; the file stays under 20 MB.
# The store is made by dns-audit itself (schema), then filled as a year of runs would fill it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "work dir: $WORK" || trap 'rm -rf "$WORK"' EXIT
cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" -q
BIN="$ROOT/target/release/dns-audit"

mkdir -p "$WORK/repo/expected-records"
python3 - "$WORK/repo/expected-records/fleet.example.net.zone" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("$ORIGIN fleet.example.net.\n$TTL 300\n@ IN SOA ns1 h 1 3600 900 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n")
    for i in range(1000):
        f.write(f"bh{i} IN A 198.18.{i // 256}.{i % 256}\n")
PY
# The fleet was committed a year ago; one host was added an hour ago.
OLD="@$(( $(date +%s) - 400 * 86400 )) +0000"; NEW="@$(( $(date +%s) - 3600 )) +0000"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.net GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.net
git -C "$WORK/repo" init -q && git -C "$WORK/repo" add -A && \
  GIT_AUTHOR_DATE=$OLD GIT_COMMITTER_DATE=$OLD git -C "$WORK/repo" commit -q -m "fleet"
echo "bh1000 IN A 198.18.3.232" >> "$WORK/repo/expected-records/fleet.example.net.zone"
git -C "$WORK/repo" add -A && GIT_AUTHOR_DATE=$NEW GIT_COMMITTER_DATE=$NEW git -C "$WORK/repo" commit -q -m "add bh1000"

STATE="$WORK/history.sqlite"
# dns-audit makes the store (its schema) on a first check; `recent --offline` only reads. The
# check asks a closed port on loopback, fails fast and is recorded (exit 3).
printf 'timeout_ms = 50\nretries = 0\n' > "$WORK/repo/expected-records/dns-audit.toml"
"$BIN" check --quiet --expected "$WORK/repo/expected-records" --state "$STATE" \
    --nameserver 127.0.0.1:9 > /dev/null || true

python3 - "$STATE" <<'PY'
import sqlite3, sys, time, random, json
random.seed(7)
db = sqlite3.connect(sys.argv[1])
now = int(time.time())
year = 365 * 86400
start = now - year
runs = [(start + i * 300, 900, 2, "clean", 0, 0) for i in range(year // 300)]
db.executemany("INSERT INTO runs (started_at, duration_ms, servers, verdict, drift, failures) VALUES (?,?,?,?,?,?)", runs)
first_run = db.execute("SELECT min(id) FROM runs").fetchone()[0]
rrsets = {}
for server in ("ns1", "ns2"):
    for i in range(1000):
        name = f"bh{i}.fleet.example.net."
        cur = db.execute("INSERT INTO rrsets (zone, server, name, rtype, hash) VALUES (?,?,?,?,?)",
                         ("fleet.example.net.", server, name, "A", 1))
        rrsets[(server, i)] = cur.lastrowid
        db.execute("INSERT INTO changes (rrset, run, at, present, ttl, vals, before, baseline) VALUES (?,?,?,?,?,?,?,1)",
                   (cur.lastrowid, first_run, start, 1, 300, json.dumps([f"198.18.{i // 256}.{i % 256}"]), "[]"))
# 500 changes spread over the year, each seen on both servers.
for k in range(500):
    i = random.randrange(1000)
    at = start + random.randrange(year)
    run = first_run + (at - start) // 300
    for server in ("ns1", "ns2"):
        db.execute("INSERT INTO changes (rrset, run, at, present, ttl, vals, before, baseline) VALUES (?,?,?,?,?,?,?,0)",
                   (rrsets[(server, i)], run, at, 1, 300, json.dumps([f"198.19.0.{k % 256}"]), json.dumps([f"198.18.{i // 256}.{i % 256}"])))
db.commit()
db.execute("VACUUM")
db.close()
PY

SIZE_MB=$(python3 -c "import os; print(f'{os.path.getsize(\"$STATE\") / 1e6:.1f}')")
python3 - "$BIN" "$WORK" "$SIZE_MB" <<'PY'
import subprocess, sys, time
bin, work, size = sys.argv[1], sys.argv[2], sys.argv[3]
for since in ("24h", "7d", "365d"):
    cmd = [bin, "recent", "--offline", "--since", since, "--expected", f"{work}/repo/expected-records", "--state", f"{work}/history.sqlite"]
    times = []
    for _ in range(10):
        t = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); times.append(time.perf_counter() - t)
    times.sort()
    print(f"recent --offline --since {since:>4}: median {times[len(times)//2]*1000:.0f} ms, best {times[0]*1000:.0f} ms (target < 200 ms)")
print(f"store: 105,120 runs, 1,000 names x 2 servers, 500 changes: {size} MB (target < 20 MB)")
PY

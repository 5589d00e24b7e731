#!/usr/bin/env python3
"""Differential test of zone loading against BIND.

For every zone file of ../shared/corpora (real zone histories and BIND's checkzone corpus):
BIND's named-checkzone says whether the file loads. Where it does, `dns-audit show` of the file
must list exactly the records of named-compilezone's full text output (both listings are made by
`dns-audit show`, of the file and of BIND's output (`named-checkzone -D -s full`, which is
named-compilezone's output under named-checkzone's checks), so they compare record by record, not by how
each program prints). Where BIND rejects the file, dns-audit must reject it too (exit 2, with
file:line:column). Prints the counts and each disagreement; exits 1 on any disagreement.

Usage: scripts/bind-differential.py [--binary PATH] [--corpora DIR] [--verbose]
Needs: named-checkzone and named-compilezone (Debian bind9-utils). Skips (exit 0) when the corpora
are absent, as in a fresh clone.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def cases(corpora):
    """(file, origin, corpus) for every distinct zone file (by content and origin)."""
    seen = set()
    history = os.path.join(corpora, "real-zone-history")
    if os.path.isdir(history):
        for repo in sorted(os.listdir(history)):
            log = os.path.join(history, repo, "commits.jsonl")
            if not os.path.isfile(log):
                continue
            for line in open(log, encoding="utf-8"):
                row = json.loads(line)
                for side in ("before_file", "after_file"):
                    rel = row.get(side)
                    if not rel:
                        continue
                    path = os.path.join(history, repo, rel)
                    with open(path, "rb") as f:
                        key = (hashlib.sha256(f.read()).hexdigest(), row["origin"])
                    if key not in seen:
                        seen.add(key)
                        yield path, row["origin"], "history"
    checkzone = os.path.join(corpora, "bind-checkzone", "zones")
    if os.path.isdir(checkzone):
        for origin in sorted(os.listdir(checkzone)):
            for name in sorted(os.listdir(os.path.join(checkzone, origin))):
                yield os.path.join(checkzone, origin, name), origin, "checkzone"


def run(args, cwd=None):
    proc = subprocess.run(args, cwd=cwd, capture_output=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def lint_errors(binary, path, origin, work):
    """The errors `dns-audit lint` finds in the file (the zone-level checks BIND also makes)."""
    expected = os.path.join(work, "expected")
    os.makedirs(expected, exist_ok=True)
    name = "root.zone" if origin in (".", "") else origin.rstrip(".") + ".zone"
    shutil.copyfile(path, os.path.join(expected, name))
    with open(os.path.join(expected, "dns-audit.toml"), "w") as f:
        f.write("include_root = %s\n" % json.dumps(os.path.dirname(os.path.abspath(path))))
    _, out, _ = run([binary, "lint", "--expected", expected, "--format", "json"])
    try:
        findings = json.loads(out).get("findings", [])
    except ValueError:
        return ["lint printed no JSON"]
    return [f for f in findings if f.get("level") == "error"]


def judge(binary, path, origin):
    """What BIND and dns-audit make of one file: (verdict, detail)."""
    work = tempfile.mkdtemp(prefix="bind-diff-")
    try:
        directory = os.path.dirname(path)
        rc, _, err = run(["named-checkzone", origin, path], cwd=directory)
        bind_loads = rc == 0
        ours_rc, ours, ours_err = run(
            [binary, "show", "--origin", origin, "--include-root", directory, path])
        if not bind_loads:
            if ours_rc == 0 and not lint_errors(binary, path, origin, work):
                reason = err.decode(errors="replace").strip().splitlines()
                return "bind-rejects-we-load", reason[:3]
            if ours_rc == 0:
                return "both-reject", []
            placed = re.search(rb":\d+(:\d+)?: ", ours_err) is not None
            return ("both-reject" if placed else "both-reject-unplaced"), []
        if ours_rc != 0:
            return "bind-loads-we-reject", ours_err.decode(errors="replace").strip().splitlines()[:5]
        compiled = os.path.join(work, "bind.txt")
        # named-checkzone -D writes what it loaded (named-compilezone's output, under the same
        # checks that gave the verdict: compilezone's stricter defaults refuse a few files).
        rc, _, err = run(["named-checkzone", "-D", "-f", "text", "-F", "text", "-s", "full",
                          "-o", compiled, origin, path], cwd=directory)
        if rc != 0:
            return "bind-compile-failed", err.decode(errors="replace").strip().splitlines()[:3]
        rc, theirs, err = run([binary, "show", "--origin", origin, compiled])
        if rc != 0:
            return "cannot-read-bind-output", err.decode(errors="replace").strip().splitlines()[:5]
        if ours == theirs:
            return "same-records", []
        a, b = set(ours.splitlines()), set(theirs.splitlines())
        detail = ["only dns-audit: " + l.decode(errors="replace") for l in sorted(a - b)[:5]]
        detail += ["only BIND:      " + l.decode(errors="replace") for l in sorted(b - a)[:5]]
        return "different-records", detail
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "target", "release", "dns-audit"))
    parser.add_argument("--corpora", default=os.path.join(HERE, "..", "..", "shared", "corpora"))
    parser.add_argument("--verbose", action="store_true")
    opts = parser.parse_args()
    if not os.path.isdir(opts.corpora):
        print(f"skipped: no corpora at {opts.corpora}")
        return 0
    for tool in ("named-checkzone", "named-compilezone"):
        if shutil.which(tool) is None:
            print(f"skipped: {tool} is not installed (apt-get install bind9-utils)")
            return 0
    all_cases = list(cases(opts.corpora))
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {pool.submit(judge, opts.binary, p, o): (p, o, kind) for p, o, kind in all_cases}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
    bad = {"bind-rejects-we-load", "bind-loads-we-reject", "different-records",
           "cannot-read-bind-output", "both-reject-unplaced"}
    failures = 0
    for kind in ("history", "checkzone"):
        rows = {k: v for k, v in results.items() if k[2] == kind}
        counts = {}
        for verdict, _ in rows.values():
            counts[verdict] = counts.get(verdict, 0) + 1
        loads = sum(1 for v, _ in rows.values() if v in ("same-records", "different-records",
                                                          "bind-loads-we-reject",
                                                          "cannot-read-bind-output",
                                                          "bind-compile-failed"))
        print(f"{kind}: {len(rows)} files; BIND loads {loads}, "
              f"same records {counts.get('same-records', 0)}; BIND rejects {len(rows) - loads}, "
              f"dns-audit rejects too {counts.get('both-reject', 0)}")
        print("  " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for (path, origin, _), (verdict, detail) in sorted(rows.items()):
            if verdict in bad or verdict == "bind-compile-failed":
                failures += verdict in bad
                if opts.verbose or failures <= 40:
                    print(f"  {verdict}: {os.path.relpath(path, opts.corpora)} ({origin})")
                    for line in detail:
                        print(f"      {line}")
    print(f"{failures} disagreements")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

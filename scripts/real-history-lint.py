#!/usr/bin/env python3
"""Lint every real commit of ../shared/corpora/real-zone-history against its parent, as CI would.

For each (commit, zone file) change whose parent version lints clean on its own, the parent is
committed into a scratch repository as expected-records/<zone>zone, the commit's version is
written over it, and `dns-audit lint --base HEAD` judges the change. Prints the share of real
commits flagged (errors, which fail CI) per check and per repository.

    python3 scripts/real-history-lint.py [CORPUS]   (skipped when the corpus is absent)
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "corpora", "real-zone-history")
BIN = os.path.join(ROOT, "target", "release", "dns-audit")


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@x",
                        "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@x"})


def lint(directory, base):
    args = [BIN, "lint", "--expected", directory, "--format", "json"]
    if base:
        args += ["--base", "HEAD"]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode == 2:
        return None
    return json.loads(out.stdout)


def main():
    if not os.path.isdir(CORPUS):
        print(f"no corpus at {CORPUS}: skipped")
        return 0
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "--manifest-path",
                    os.path.join(ROOT, "Cargo.toml")], check=True)
    judged = collections.Counter()
    flagged = collections.Counter()
    by_check = collections.Counter()
    for repo in sorted(os.listdir(CORPUS)):
        rows = os.path.join(CORPUS, repo, "commits.jsonl")
        if not os.path.isfile(rows):
            continue
        for line in open(rows):
            row = json.loads(line)
            if row["change"] != "modified" or row.get("includes") or not row["before_file"]:
                continue
            origin = row["origin"]
            name = "root.zone" if origin == "." else f"{origin}zone"
            with tempfile.TemporaryDirectory() as scratch:
                expected = os.path.join(scratch, "expected-records")
                os.makedirs(expected)
                before = open(os.path.join(CORPUS, repo, row["before_file"]), "rb").read()
                open(os.path.join(expected, name), "wb").write(before)
                parent = lint(expected, base=False)
                if parent is None or parent["errors"] > 0:
                    continue
                git(scratch, "init", "-q")
                git(scratch, "add", "-A")
                git(scratch, "commit", "-q", "-m", "parent")
                after = open(os.path.join(CORPUS, repo, row["after_file"]), "rb").read()
                open(os.path.join(expected, name), "wb").write(after)
                report = lint(expected, base=True)
                if report is None:
                    continue
                judged[repo] += 1
                checks = {f["check"] for f in report["findings"]
                          if f["level"] == "error" and not f.get("waived")}
                if checks:
                    flagged[repo] += 1
                for check in checks:
                    by_check[check] += 1
    total = sum(judged.values())
    print(f"real commits judged (parent lints clean): {total}")
    print(f"flagged by errors: {sum(flagged.values())} ({100 * sum(flagged.values()) / max(total, 1):.1f}%)")
    for repo in sorted(judged):
        print(f"  {repo}: {flagged[repo]} of {judged[repo]} ({100 * flagged[repo] / judged[repo]:.1f}%)")
    print("by check (a commit may count under several):")
    for check, n in by_check.most_common():
        print(f"  {check}: {n} ({100 * n / max(total, 1):.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

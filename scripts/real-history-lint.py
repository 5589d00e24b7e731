#!/usr/bin/env python3
"""Lint every real commit of ../shared/corpora/real-zone-history against its parent, as CI would.

Each repository's zone history is replayed, oldest commit first, into a scratch git repository
(every zone file as expected-records/<zone>zone), so `lint` sees the history CI would see. For
each commit, its parent's files are committed, its own are written over them and
`dns-audit lint --base HEAD` judges the change, one (commit, zone file) at a time: a modified
file whose parent version lints clean counts. Prints the share of real (commit, file) changes
flagged (errors, which fail CI) per check and per repository.

    python3 scripts/real-history-lint.py [--dump FILE] [CORPUS]   (skipped when the corpus is absent)

--dump writes every error finding as a JSON line (repo, commit, check, message) for reading.
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "dns-audit")
ENV = {**os.environ, "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@x",
       "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@x"}


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, env=ENV)


def lint(directory, base):
    args = [BIN, "lint", "--expected", directory, "--format", "json"]
    if base:
        args += ["--base", "HEAD"]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode == 2:
        return None
    return json.loads(out.stdout)


def zone_file_name(origin):
    return "root.zone" if origin == "." else f"{origin}zone"


def commits_oldest_first(corpus, repo):
    """The repository's rows grouped by commit, oldest commit first."""
    groups = {}
    for line in open(os.path.join(corpus, repo, "commits.jsonl")):
        row = json.loads(line)
        groups.setdefault(row["commit"], []).append(row)
    return list(reversed(list(groups.values())))


def replay(corpus, repo, scratch, tally):
    """Replays the repository's zone history into `scratch`/expected-records (one file per
    zone, as dns-audit wants them), linting each commit against its parent as CI would."""
    expected = os.path.join(scratch, "expected-records")
    os.makedirs(expected)
    git(scratch, "init", "-q")
    content = lambda row, key: open(os.path.join(corpus, repo, row[key]), "rb").read()
    for rows in commits_oldest_first(corpus, repo):
        rows = [r for r in rows if not r.get("includes")]
        for row in rows:
            if row["before_file"]:
                open(os.path.join(expected, zone_file_name(row["origin"])), "wb").write(content(row, "before_file"))
        commit(scratch, f"parent of {rows[0]['commit'] if rows else ''}")
        judged = [r for r in rows if r["change"] == "modified" and r["before_file"]]
        if judged:
            parent = lint(expected, base=False)
            broken = {os.path.basename(f["file"]) for f in (parent or {"findings": []})["findings"]
                      if f["level"] == "error"}
            judged = [r for r in judged if parent is not None and zone_file_name(r["origin"]) not in broken]
        for row in rows:
            target = os.path.join(expected, zone_file_name(row["origin"]))
            if row["after_file"]:
                open(target, "wb").write(content(row, "after_file"))
            elif os.path.exists(target):
                os.remove(target)
        if judged:
            report = lint(expected, base=True)
            if report is not None:
                for row in judged:
                    name = zone_file_name(row["origin"])
                    own = [f for f in report["findings"] if os.path.basename(f["file"]) == name
                           and not f.get("waived")]
                    errors = [f for f in own if f["level"] == "error"]
                    warnings = [f for f in own if f["level"] == "warning"]
                    conventions = [c for c in report.get("conventions", []) if c["zone"] == row["origin"]]
                    tally(repo, row, errors, warnings, conventions)
        if rows:
            commit(scratch, rows[0]["message"][:200] or "change")


FIX_WORDS = re.compile(r"\b(fix|fixe[ds]|typo|oops|forgot|wrong|correct(ed)?|missing|broke[n]?|revert)\b", re.I)


def fixes(corpus):
    """(repo, commit, path) of changes whose file's next commit says it fixes something: a proxy
    for the real mistakes lint should keep catching."""
    out = set()
    for repo in os.listdir(corpus):
        rows_file = os.path.join(corpus, repo, "commits.jsonl")
        if not os.path.isfile(rows_file):
            continue
        by_path = collections.defaultdict(list)
        for rows in commits_oldest_first(corpus, repo):
            for row in rows:
                by_path[row["path"]].append(row)
        for rows in by_path.values():
            for earlier, later in zip(rows, rows[1:]):
                if FIX_WORDS.search(later["message"].splitlines()[0] if later["message"] else ""):
                    out.add((repo, earlier["commit"], earlier["path"]))
    return out


def commit(scratch, message):
    git(scratch, "add", "-A")
    subprocess.run(["git", "-C", scratch, "commit", "-q", "--allow-empty", "-m", message],
                   check=True, capture_output=True, env=ENV)


def main():
    args = sys.argv[1:]
    dump = None
    if args[:1] == ["--dump"]:
        dump, args = open(args[1], "w"), args[2:]
    corpus = args[0] if args else os.path.join(ROOT, "..", "shared", "corpora", "real-zone-history")
    if not os.path.isdir(corpus):
        print(f"no corpus at {corpus}: skipped")
        return 0
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "--manifest-path",
                    os.path.join(ROOT, "Cargo.toml")], check=True)
    judged = collections.Counter()
    flagged = collections.Counter()
    fixed_later = fixes(corpus)
    caught = collections.Counter()
    by_check = collections.Counter()
    by_repo_check = collections.Counter()

    def tally(repo, row, errors, warnings, conventions):
        judged[repo] += 1
        checks = {f["check"] for f in errors}
        if (repo, row["commit"], row["path"]) in fixed_later:
            caught["needed a fix"] += 1
            caught["flagged by errors"] += bool(errors)
            caught["flagged by errors or warnings"] += bool(errors or warnings)
        if checks:
            flagged[repo] += 1
        for check in checks:
            by_check[check] += 1
            by_repo_check[(repo, check)] += 1
        if dump:
            for f in errors:
                dump.write(json.dumps({"repo": repo, "commit": row["commit"][:10], "path": row["path"],
                                       "subject": row["message"].splitlines()[0] if row["message"] else "",
                                       "check": f["check"], "message": f["message"],
                                       "serials": [c["serials"]["why"] for c in conventions],
                                       "naming": [c["naming"]["why"] for c in conventions]}) + "\n")

    with tempfile.TemporaryDirectory() as scratch_root:
        for repo in sorted(os.listdir(corpus)):
            if os.path.isfile(os.path.join(corpus, repo, "commits.jsonl")):
                replay(corpus, repo, os.path.join(scratch_root, repo), tally)
    total = sum(judged.values())
    print(f"real commits judged (parent lints clean): {total}")
    print(f"flagged by errors: {sum(flagged.values())} ({100 * sum(flagged.values()) / max(total, 1):.1f}%)")
    for repo in sorted(judged):
        print(f"  {repo}: {flagged[repo]} of {judged[repo]} ({100 * flagged[repo] / judged[repo]:.1f}%)")
        for (r, check), n in sorted(by_repo_check.items(), key=lambda kv: -kv[1]):
            if r == repo:
                print(f"      {check}: {n}")
    print("by check (a commit may count under several):")
    for check, n in by_check.most_common():
        print(f"  {check}: {n} ({100 * n / max(total, 1):.1f}%)")
    print(f"changes the next commit of the same file fixed (its message says fix, typo, oops, forgot, ...): "
          f"{caught['needed a fix']}; flagged by errors {caught['flagged by errors']}, "
          f"by errors or warnings {caught['flagged by errors or warnings']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

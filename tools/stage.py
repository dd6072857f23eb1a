"""One stage of `make test`, timed and counted, and the summary of all stages at the end.

    python tools/stage.py NAME --count KIND -- COMMAND ...   # run COMMAND as stage NAME
    python tools/stage.py --summary                          # one line per stage so far

The command's output passes through unchanged; the stage's wall time and what it counted are
appended to _build/test-stages.tsv (`make test` empties it first), so that the summary shows
where the time went. KIND says what the stage counts:

    pytest   the last pytest summary line ("943 passed, 2 skipped")
    pages    the HTML pages in _build/html
    bench    the benchmark's rows in _build/bench-quick.json

A failing stage is recorded as failed, the summary so far is printed, and its exit status is
passed on, so `make` stops there as before.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
STAGES = BUILD / "test-stages.tsv"
PYTEST_SUMMARY = re.compile(r"\b(\d+ (passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?))\b")
COUNTS = ("pytest", "pages", "bench")


def count_pytest(output: str) -> str:
    lines = [line for line in output.splitlines() if PYTEST_SUMMARY.search(line)]
    if not lines:
        return "no pytest summary"
    parts = [m.group(1) for m in PYTEST_SUMMARY.finditer(lines[-1]) if "warning" not in m.group(2)]
    return ", ".join(parts)


def count_pages(_: str) -> str:
    site = BUILD / "html"
    skip = {"_static", "_sources", "_images", "_downloads"}
    pages = [p for p in site.rglob("*.html") if not skip.intersection(p.relative_to(site).parts)]
    return f"{len(pages)} pages"


def count_bench(_: str) -> str:
    path = BUILD / "bench-quick.json"
    if not path.is_file():
        return "no bench-quick.json"
    results = json.loads(path.read_text())
    return f"{len(results['modules'])} module rows, {len(results['resnet50'])} ResNet-50 rows"


def run(name: str, kind: str, command: list[str]) -> int:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               bufsize=1)
    captured = []
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        captured.append(line)
    status = process.wait()
    seconds = time.perf_counter() - started
    counted = {"pytest": count_pytest, "pages": count_pages, "bench": count_bench}[kind]("".join(captured))
    BUILD.mkdir(exist_ok=True)
    with STAGES.open("a") as f:
        f.write(f"{name}\t{seconds:.0f}\t{'ok' if status == 0 else f'FAILED ({status})'}\t{counted}\n")
    if status != 0:
        summary()
    return status


def summary() -> int:
    if not STAGES.is_file():
        print("no stage has run yet", file=sys.stderr)
        return 1
    rows = [line.split("\t") for line in STAGES.read_text().splitlines() if line]
    total = sum(int(seconds) for _, seconds, _, _ in rows)
    print("\nmake test, stage by stage (wall clock):")
    for name, seconds, status, counted in rows:
        print(f"  {name:10s} {int(seconds) // 60:3d} min {int(seconds) % 60:02d} s  {status:4s}  {counted}")
    print(f"  {'total':10s} {total // 60:3d} min {total % 60:02d} s")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--summary"]:
        return summary()
    if "--" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python tools/stage.py")
    parser.add_argument("name")
    parser.add_argument("--count", choices=COUNTS, required=True)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]
    if not command:
        parser.error("no command after --")
    return run(args.name, args.count, command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

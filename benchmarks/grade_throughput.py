"""How fast ``gradkata grade`` grades a class, next to one plain pytest run.

Copies solutions/ into 40 submission folders in a temporary folder, times
``python -m gradkata grade SUBMISSION... --csv FILE --jobs <cores>`` as a
whole command (start-up included) and prints submissions per second; then
times one plain ``pytest --impl solutions -q -p no:cacheprovider`` of the
same suite, also as a whole command, for comparison. Checks that every
submission was graded with full marks. Also prints the CPU time the batch took
(its processes' user + system seconds, per submission) and, on Linux, how the
machine's CPUs spent the batch (busy, idle, and stolen by the hypervisor of a
virtual machine): a rate alone moves with the machine, those say why.

Target: at least 4 correct submissions per second on 2 cores (issue 13's bar),
each graded by its own fresh judge process.

    python benchmarks/grade_throughput.py [--submissions N] [--jobs N] [--strict]

``--strict`` exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
TARGET = 4.0  # submissions per second


def run(command: List[str], label: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=1800)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"grade_throughput: {label} ended with status {proc.returncode}:\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds


def children_cpu() -> float:
    """User + system seconds of the finished child processes (0 where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_times() -> Optional[List[int]]:
    """The machine's CPU time so far, from /proc/stat (Linux): busy, idle, stolen."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, waiting for I/O
    stolen = fields[7] if len(fields) > 7 else 0
    return [sum(fields[:8]) - idle - stolen, idle, stolen]


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    options = parser.parse_args(list(argv))

    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for i in range(options.submissions):
            folder = Path(tmp) / f"student-{i:02d}"
            shutil.copytree(ROOT / "solutions", folder,
                            ignore=shutil.ignore_patterns("__pycache__"))
            folders.append(str(folder))
        table = Path(tmp) / "grades.csv"
        machine_before = machine_times()
        cpu_before = children_cpu()
        grade = run([sys.executable, "-m", "gradkata", "grade", *folders, "--csv", str(table),
                     "--jobs", str(options.jobs)], "gradkata grade")
        cpu = children_cpu() - cpu_before
        machine_after = machine_times()
        rows = list(csv.DictReader(table.open()))
        wrong = [r["submission"] for r in rows
                 if r["status"] != "graded" or r["score"] != r["max_score"]]
        if len(rows) != options.submissions or wrong:
            raise SystemExit(f"grade_throughput: {len(rows)} rows, not full marks: {wrong}")
    single = run([sys.executable, "-m", "pytest", "--impl", "solutions", "-q",
                  "-p", "no:cacheprovider"], "pytest --impl solutions")

    rate = options.submissions / grade
    met = rate >= TARGET
    print(f"gradkata grade: {options.submissions} submissions with --jobs {options.jobs} "
          f"in {grade:.1f} s: {rate:.2f} submissions per second "
          f"({grade / options.submissions:.2f} s each)")
    print(f"the batch's CPU time: {cpu:.1f} s ({cpu / options.submissions * 1000:.0f} ms "
          "a submission, user + system, every process of the batch)")
    if machine_before is not None and machine_after is not None:
        spent = [after - before for before, after in zip(machine_before, machine_after)]
        total = sum(spent) or 1
        print("the machine's CPUs meanwhile: busy {:.0f} %, idle {:.0f} %, stolen by the "
              "hypervisor {:.0f} %".format(*(100 * x / total for x in spent)))
    print(f"one plain pytest --impl solutions run: {single:.2f} s")
    print(f"target at least {TARGET:g} per second: {'met' if met else 'NOT met'}")
    return 1 if options.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

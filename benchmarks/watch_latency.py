"""How long a learner waits between saving a file and reading its verdict in ``gradkata watch``.

Measured from outside the process, as a learner meets it: in a temporary copy
of the kata (pyproject.toml, exercises/, solutions/, the graded tests), each
round starts ``gradkata watch --exit-after 1``, waits until it has checked once
and says it is watching (and a moment more, for its file watcher to settle),
then saves ``exercises/single_neuron.py`` and takes the time from just before
that write until the process has printed its verdict and exited. Rounds
alternate between a save that writes ``y_hat`` and one that puts the stub
back, so that every save changes the verdict. After the rounds, ``gradkata
check`` runs once on the last state: every line it prints but its total must
stand, in order, in the last verdict of ``watch`` (the same messages).

Prints each round's time, the median, and the load average before and after.
Target: a median of at most 0.5 s.

    python benchmarks/watch_latency.py [--rounds 5] [--strict]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Sequence

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.5
SETTLE_SECONDS = 1.0  # after "Watching ...": the file watcher is set up just after it
WATCHING = "Watching exercises/ for changes"
STUB = '    raise NotImplementedError("single_neuron.y_hat: not started")'
SOLVED = "    return float(x_1 * w[0] + x_2 * w[1] + w[2])"


def copy_kata(where: Path) -> Path:
    kata = where / "kata"
    kata.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", kata)
    ignore = shutil.ignore_patterns("__pycache__", "meta", "*.gradkata-backup")
    for folder in ("exercises", "solutions", "tests"):
        shutil.copytree(ROOT / folder, kata / folder, ignore=ignore)
    return kata


def environment() -> dict:
    env = dict(os.environ, NO_COLOR="1")
    for name in ("GRADKATA_IMPL", "PYTHONUNBUFFERED"):
        env.pop(name, None)
    return env


def one_round(kata: Path, text: str) -> tuple:
    """Seconds from the save to the verdict printed and to the process's exit, and
    what it printed after the save."""
    proc = subprocess.Popen([sys.executable, "-m", "gradkata", "watch", "--exit-after", "1"],
                            cwd=str(kata), env=environment(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    seen = b""
    while WATCHING.encode() not in seen:
        chunk = os.read(proc.stdout.fileno(), 1 << 16)
        if not chunk:
            raise SystemExit(f"watch_latency: watch ended before watching:\n{seen.decode()}")
        seen += chunk
    time.sleep(SETTLE_SECONDS)
    target = kata / "exercises" / "single_neuron.py"
    started = time.perf_counter()
    target.write_text(text)
    after = b""
    while True:
        chunk = os.read(proc.stdout.fileno(), 1 << 16)
        if not chunk:
            break
        after += chunk
    printed = time.perf_counter()
    proc.wait()
    exited = time.perf_counter()
    return printed - started, exited - started, after.decode()


def same_messages(verdict: str, check: str) -> bool:
    """Every line of ``gradkata check`` but its total stands, in order, in the verdict."""
    lines = iter(verdict.splitlines())
    wanted = [line for line in check.splitlines() if not line.startswith("Total: ")]
    return all(any(line == got for got in lines) for line in wanted)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="saves to time (default 5)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    options = parser.parse_args(list(argv))

    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    printed: List[float] = []
    exited: List[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        kata = copy_kata(Path(tmp))
        stub = (kata / "exercises" / "single_neuron.py").read_text()
        assert STUB in stub, "the stub of y_hat is not where this benchmark expects it"
        solved = stub.replace(STUB, SOLVED)
        verdict = ""
        for number in range(options.rounds):
            text = solved if number % 2 == 0 else stub
            seconds_printed, seconds_exited, verdict = one_round(kata, text)
            printed.append(seconds_printed)
            exited.append(seconds_exited)
            print(f"save {number + 1}: verdict printed after {seconds_printed:.3f} s, "
                  f"exited after {seconds_exited:.3f} s", flush=True)
        check = subprocess.run([sys.executable, "-m", "gradkata", "check"], cwd=str(kata),
                               env=environment(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not same_messages(verdict, check.stdout):
            print("watch_latency: the last verdict of watch does not hold the messages of "
                  f"gradkata check.\nwatch:\n{verdict}\ncheck:\n{check.stdout}")
            return 1
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    median = statistics.median(exited)
    print(f"median save-to-verdict: {statistics.median(printed):.3f} s printed, "
          f"{median:.3f} s exited (target {TARGET} s), over {len(exited)} saves")
    if load_before is not None and load_after is not None:
        print("load average before: " + " ".join(f"{x:.2f}" for x in load_before)
              + "; after: " + " ".join(f"{x:.2f}" for x in load_after))
    return 1 if options.strict and median > TARGET else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

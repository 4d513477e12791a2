"""Start-up cost: ``import torch``, ``import lstmkit`` and ``lstmkit --help``, in fresh processes.

Each command runs ``--repeats`` times (default 7) in a new Python process, interleaved so that a
busy moment on the machine hits them alike; the median wall time of each is reported with
its ratio to ``python -c "import torch"`` (the floor for anything that trains). The issue's
targets: ``lstmkit --help`` within 1 s, ``import lstmkit`` adding little to ``import torch``.
``from lstmkit import Forecaster`` (torch plus the forecasting room) is measured beside them.
Prints one JSON line.

    python benchmarks/import_time.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "import_torch": [sys.executable, "-c", "import torch"],
    "import_lstmkit": [sys.executable, "-c", "import lstmkit"],
    "help": [sys.executable, "-m", "lstmkit", "--help"],
    "import_forecaster": [sys.executable, "-c", "from lstmkit import Forecaster"],
}


def _seconds(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    for cmd in COMMANDS.values():          # warm the file cache and the .pyc files first
        _seconds(cmd)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):
        for name, cmd in COMMANDS.items():
            times[name].append(_seconds(cmd))
    median = {name: statistics.median(t) for name, t in times.items()}
    torch_s = median["import_torch"]
    print(json.dumps({
        "import_torch_s": round(torch_s, 3),
        "import_lstmkit_s": round(median["import_lstmkit"], 3),
        "help_s": round(median["help"], 3),
        "import_forecaster_s": round(median["import_forecaster"], 3),
        "import_lstmkit_over_torch": round(median["import_lstmkit"] / torch_s, 3),
        "help_over_torch": round(median["help"] / torch_s, 3),
        "import_forecaster_over_torch": round(median["import_forecaster"] / torch_s, 3),
        "repeats": args.repeats,
    }))


if __name__ == "__main__":
    main()

"""Every benchmark writes its figures the same way: one JSON file per benchmark under
benchmarks/results/, stamped with the machine and the command that produced it."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_result(name: str, figures: dict[str, Any]) -> None:
    script = Path(sys.argv[0]).name
    result = {
        "benchmark": name,
        **figures,
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "command": " ".join([f"benchmarks/{script}", *sys.argv[1:]]),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))

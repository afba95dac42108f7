"""Show where `make demo` put its records and what a few of them look like."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str) -> None:
    out = Path(path)
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    print(f"\n{len(lines)} records in {out.resolve()}; a few of them (embedding shortened):")
    by_modality: dict[str, list[dict]] = {}
    for line in lines:
        record = json.loads(line)
        by_modality.setdefault(record["modality"], []).append(record)
    for records in by_modality.values():
        for record in records[:2]:
            vector = record["embedding"]
            record["embedding"] = [round(x, 4) for x in vector[:4]] + [f"... {len(vector)} dims"]
            print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "vtembed-out/embeddings.jsonl")

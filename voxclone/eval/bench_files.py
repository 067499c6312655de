"""Where the benchmarks leave their results: ``PREFIX-YYYYmmdd-HHMMSS.json`` and ``.md``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


def save_results(prefix: str, results: dict[str, Any], table: str, out_dir: str | Path) -> Path:
    """Write ``results`` (JSON, with the date) and ``table`` (Markdown) under ``out_dir``;
    return the JSON path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = out / f"{prefix}-{stamp}.json"
    path.write_text(json.dumps({"date": stamp, **results}, indent=2, default=str))
    (out / f"{prefix}-{stamp}.md").write_text(table + "\n")
    return path

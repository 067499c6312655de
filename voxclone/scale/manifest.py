"""Batch manifests: a CSV/TSV file (``id,text`` or ``id,path``) or a folder of audio files."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from voxclone.audio.io import SUPPORTED_SUFFIXES
from voxclone.errors import ManifestError

Mode = Literal["say", "convert"]
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
MAX_REPORTED = 5


@dataclass(frozen=True)
class BatchItem:
    """One unit of work: ``id`` names the output ``<id>.wav``; ``text`` (say) or ``path`` (convert)."""

    id: str
    text: str | None = None
    path: str | None = None


def validate_id(item_id: object) -> str:
    """``item_id`` if it is a safe output name, else raise ManifestError.

    Allowed: 1-128 letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit,
    never ``..`` and no trailing dot: it can name nothing outside the output folder.
    """
    if not isinstance(item_id, str) or not ID_PATTERN.fullmatch(item_id) or ".." in item_id \
            or item_id.endswith("."):
        raise ManifestError(f"Invalid item id {item_id!r}: use 1-128 letters, digits, '_', '-' or "
                            "'.', starting with a letter or digit, without '..' or path separators.")
    return item_id


def load_manifest(source: str | Path, mode: Mode | None = None) -> tuple[Mode, list[BatchItem]]:
    """Read a manifest file or an audio folder; return the mode and the items in file order.

    ``mode`` None infers it (a folder or a ``path`` column: convert; a ``text`` column: say).
    Raises ManifestError for a missing source or column, invalid ids (naming their lines) and
    duplicate ids; nothing is run before the whole manifest has passed.
    """
    src = Path(source)
    if src.is_dir():
        if mode == "say":
            raise ManifestError(f"{src} is a folder of audio: it can only be converted (--mode "
                                "convert); to speak text, give a CSV/TSV manifest with id,text.")
        return "convert", _check(_folder_items(src), src)
    if not src.is_file():
        raise ManifestError(f"Manifest not found: {src}. Give a CSV/TSV file or a folder of audio.")
    found_mode, items = _read_table(src, mode)
    return found_mode, _check(items, src)


def _folder_items(folder: Path) -> list[tuple[int, BatchItem]]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    if not files:
        raise ManifestError(f"No audio files ({', '.join(SUPPORTED_SUFFIXES)}) in {folder}.")
    return [(0, BatchItem(p.stem, path=str(p))) for p in files]


def _read_table(path: Path, mode: Mode | None) -> tuple[Mode, list[tuple[int, BatchItem]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"Cannot read manifest {path} ({exc}): save it as UTF-8 text.") from exc
    delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in text.split("\n", 1)[0] else ","
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL  # TSV: quotes are text
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter, quoting=quoting))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if mode is None:
        mode = "convert" if "path" in header and "text" not in header else "say"
    column = "text" if mode == "say" else "path"
    if "id" not in header or column not in header:
        raise ManifestError(f"Manifest {path} needs a header row with columns id,{column} "
                            f"(--mode {mode}); found {','.join(header) or 'nothing'}.")
    i_id, i_val = header.index("id"), header.index(column)
    items = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        value = cells[i_val]
        if mode == "convert" and value and not Path(value).is_absolute():
            value = str(path.parent / value)
        items.append((line, BatchItem(cells[i_id].strip(), **{column: value})))
    if not items:
        raise ManifestError(f"Manifest {path} lists no items.")
    return mode, items


def _check(numbered: list[tuple[int, BatchItem]], src: Path) -> list[BatchItem]:
    problems, seen = [], {}
    for line, item in numbered:
        where = f"line {line}" if line else Path(item.path or "").name
        try:
            validate_id(item.id)
        except ManifestError:
            problems.append(f"{where}: invalid id {item.id!r}")
            continue
        if item.id in seen:
            problems.append(f"{where}: duplicate id {item.id!r} (first at {seen[item.id]})")
        seen.setdefault(item.id, where)
    if problems:
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise ManifestError(f"Manifest {src} has bad ids: {'; '.join(problems[:MAX_REPORTED])}{more}. "
                            "Ids name the output files: use 1-128 letters, digits, '_', '-' or '.', "
                            "starting with a letter or digit, each id once.")
    return [item for _, item in numbered]

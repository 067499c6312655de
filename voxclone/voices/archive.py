"""Voice export archives: a zip with ``manifest.json`` and the voice's FLAC clips.

Reading never trusts the archive: member names, kinds, counts and sizes are checked before
anything is read, only the members the manifest lists are extracted (under our own names), and
each clip's SHA-256 must match the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxclone.errors import ProfileVersionError, VoiceArchiveError

ARCHIVE_FORMAT = "voxclone-voice"
ARCHIVE_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MAX_CLIPS = 256
MAX_MANIFEST_BYTES = 1 << 20
MAX_CLIP_BYTES = 256 << 20
MAX_TOTAL_BYTES = 1 << 30
_CLIP_MEMBER = re.compile(r"clips/[0-9a-f]{16}\.flac")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ArchiveClip:
    """One clip of an archive: its file on disk, SHA-256 (hex) and the name it was added under."""

    path: Path
    sha256: str
    original_name: str


def write_archive(zip_path: str | os.PathLike, name: str, clips: Sequence[ArchiveClip],
                  consent: str | None = None) -> Path:
    """Write ``clips`` of voice ``name`` (and its consent statement, when it has one) to
    ``zip_path`` atomically (temp file + rename)."""
    out = Path(zip_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    entries = [{"file": f"clips/{c.sha256[:16]}.flac", "sha256": c.sha256,
                "original_name": c.original_name} for c in clips]
    manifest = {"format": ARCHIVE_FORMAT, "format_version": ARCHIVE_FORMAT_VERSION,
                "name": name, "clips": entries}
    if consent:
        manifest["consent"] = consent
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, ensure_ascii=False))
            for clip, entry in zip(clips, entries):
                zf.write(clip.path, entry["file"])
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def read_archive(zip_path: str | os.PathLike, dest: Path
                 ) -> tuple[str, list[ArchiveClip], str | None]:
    """Check an archive and extract its clips into ``dest``; return (voice name, clips, consent
    statement or None).

    Raises VoiceArchiveError for damaged or unsafe archives and ProfileVersionError for an
    unknown manifest version.
    """
    try:
        zf = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise VoiceArchiveError(f"Cannot open voice archive {zip_path} ({exc}): pass a zip "
                                "written by `voxclone voices export`.") from exc
    with zf:
        members = _check_members(zf.infolist())
        manifest = _read_manifest(zf, members)
        entries = _check_entries(manifest, members)
        clips = [_extract(zf, members[e["file"]], e, dest) for e in entries]
    consent = manifest.get("consent")
    if consent is not None and not isinstance(consent, str):
        raise VoiceArchiveError("Voice archive manifest has a consent that is not text.")
    return manifest["name"], clips, consent


def _unsafe(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (not name or name.startswith(("/", "\\")) or ":" in name or "\\" in name
            or any(p in ("", ".", "..") for p in parts))


def _check_members(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    if len(infos) > MAX_CLIPS + 1:
        raise VoiceArchiveError(f"Voice archive has {len(infos)} members (at most {MAX_CLIPS + 1}).")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if _unsafe(info.filename):
            raise VoiceArchiveError(f"Voice archive holds an unsafe path {info.filename!r}; refusing it.")
        if stat.S_IFMT(info.external_attr >> 16) not in (0, stat.S_IFREG):
            raise VoiceArchiveError(f"Voice archive member {info.filename!r} is not a plain file "
                                    "(symlink or special file); refusing it.")
        if info.filename != MANIFEST_NAME and not _CLIP_MEMBER.fullmatch(info.filename):
            raise VoiceArchiveError(f"Voice archive holds an unexpected member {info.filename!r}.")
        if info.filename in members:
            raise VoiceArchiveError(f"Voice archive holds {info.filename!r} twice; refusing it.")
        if info.file_size > MAX_CLIP_BYTES:
            raise VoiceArchiveError(f"Voice archive member {info.filename!r} is too large "
                                    f"({info.file_size} bytes > {MAX_CLIP_BYTES} bytes).")
        members[info.filename] = info
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise VoiceArchiveError(f"Voice archive unpacks to more than {MAX_TOTAL_BYTES >> 20} MiB.")
    return members


def _read_manifest(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    info = members.get(MANIFEST_NAME)
    if info is None or info.file_size > MAX_MANIFEST_BYTES:
        raise VoiceArchiveError("Voice archive has no usable manifest.json: it was not written by "
                                "`voxclone voices export`.")
    try:
        manifest = json.loads(_read_capped(zf, info, MAX_MANIFEST_BYTES).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise VoiceArchiveError(f"Voice archive manifest is not valid JSON ({exc}).") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise VoiceArchiveError("Voice archive manifest is not a voxclone voice manifest.")
    if "format_version" not in manifest:
        raise VoiceArchiveError("Voice archive manifest has no format_version; refusing it.")
    if manifest["format_version"] != ARCHIVE_FORMAT_VERSION:
        raise ProfileVersionError(f"Voice archive format version {manifest['format_version']!r} "
                                  f"is not supported (this voxclone reads {ARCHIVE_FORMAT_VERSION}). "
                                  "Upgrade voxclone or export the voice again.")
    return manifest


def _check_entries(manifest: dict[str, Any], members: dict[str, zipfile.ZipInfo]) -> list[dict]:
    entries = manifest.get("clips")
    if not isinstance(manifest.get("name"), str) or not isinstance(entries, list) or not entries:
        raise VoiceArchiveError("Voice archive manifest lacks a name or a clip list.")
    seen: set[str] = set()
    for e in entries:
        ok = (isinstance(e, dict) and isinstance(e.get("sha256"), str)
              and _SHA256.fullmatch(e["sha256"]) is not None
              and e.get("file") == f"clips/{e['sha256'][:16]}.flac" and e["file"] in members
              and isinstance(e.get("original_name", ""), str) and e["file"] not in seen)
        if not ok:
            raise VoiceArchiveError(f"Voice archive manifest has a bad clip entry: {e!r}.")
        seen.add(e["file"])
    return entries


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError) as exc:
        raise VoiceArchiveError(f"Voice archive member {info.filename!r} is damaged ({exc}).") from exc
    if len(data) > limit:
        raise VoiceArchiveError(f"Voice archive member {info.filename!r} is larger than it claims.")
    return data


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, entry: dict, dest: Path) -> ArchiveClip:
    data = _read_capped(zf, info, MAX_CLIP_BYTES)
    if not data.startswith(b"fLaC"):
        raise VoiceArchiveError(f"Clip {entry['file']} is not a FLAC file; refusing the archive.")
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise VoiceArchiveError(f"Clip {entry['file']} does not match its SHA-256 in the manifest: "
                                "the archive is damaged or was altered.")
    path = dest / Path(entry["file"]).name
    path.write_bytes(data)
    name = Path(str(entry.get("original_name") or path.name).replace("\\", "/")).name[:255]
    return ArchiveClip(path=path, sha256=entry["sha256"], original_name=name or path.name)

"""Generation settings stored inside output files, and read back from them.

The settings travel as one JSON object in the file's comment tag (WAV LIST/INFO ``ICMT``,
Vorbis/Opus comment, ID3 ``COMM`` for mp3), written by :func:`voxclone.audio.io.save`.
"""

from __future__ import annotations

import json
import os
from typing import Any

from voxclone.audio.io import read_tags
from voxclone.errors import ProfileVersionError

METADATA_VERSION = 1
METADATA_KEY = "voxclone"
MAX_TEXT_CHARS = 600
"""Text longer than this is shortened in the file (the WAV INFO chunk holds about 2 kB)."""


def metadata_tags(info: dict[str, Any]) -> dict[str, str]:
    """Tags for :func:`~voxclone.audio.io.save` holding ``info`` (JSON-serialisable values).

    A ``text`` entry longer than ``MAX_TEXT_CHARS`` is shortened and ``text_chars`` gives its
    full length.
    """
    info = dict(info)
    text = info.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
        info["text"] = text[:MAX_TEXT_CHARS] + "…"
        info["text_chars"] = len(text)
    payload = {METADATA_KEY: METADATA_VERSION, **info}
    tags = {"software": "voxclone", "comment": json.dumps(payload, ensure_ascii=True, sort_keys=True)}
    if isinstance(info.get("voice"), str):
        tags["artist"] = info["voice"]
    return tags


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """``{"tags": raw text tags, "settings": the stored voxclone settings or None}``.

    Raises AudioError when the file cannot be read and ProfileVersionError when it was written
    by a newer metadata format.
    """
    tags = read_tags(path)
    return {"tags": tags, "settings": parse_comment(tags.get("comment", ""))}


def parse_comment(comment: str) -> dict[str, Any] | None:
    """The voxclone settings held in a comment tag, or None when it holds none."""
    try:
        data = json.loads(comment)
    except ValueError:
        return None
    if not isinstance(data, dict) or METADATA_KEY not in data:
        return None
    version = data.pop(METADATA_KEY)
    if version != METADATA_VERSION:
        raise ProfileVersionError(f"The file's settings were written in metadata format {version}; "
                                  f"this voxclone reads format {METADATA_VERSION}. Upgrade voxclone.")
    return data

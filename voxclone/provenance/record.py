"""The provenance record every output carries in its tags (with its settings, see
:mod:`voxclone.audio.metadata`): who made it, with what, from which voice, and that it is
synthetic speech.

The voice is named by a hash of its clips (``voice_id``), never by the audio itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

GENERATOR = "voxclone"
CONTENT = "synthetic speech"
WATERMARK_NAME = "perth-implicit"
"""The mark every output carries unless turned off (Perth-Net, implicit model)."""
NO_WATERMARK = "none (turned off by the user)"


def generator_version() -> str:
    """The installed voxclone version."""
    from voxclone import __version__

    return __version__


def voice_id(clip_hashes: Iterable[str]) -> str:
    """``sha256:<hex>`` over the sorted clip hashes of a voice: the same clips, the same id."""
    joined = "\n".join(sorted(clip_hashes)).encode()
    return "sha256:" + hashlib.sha256(joined).hexdigest()


def utc_now() -> str:
    """The time now, ISO 8601 in UTC to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def provenance(engine: str, voice_hash: str | None, watermark: bool, seed: int | None = None,
               consent: str | None = None, created: str | None = None) -> dict[str, Any]:
    """The provenance fields of one output (JSON values), to merge into its metadata.

    engine: ``"tts:converter"`` (``"-:converter"`` for a conversion); voice_hash: from
    :func:`voice_id`; watermark: whether the Perth mark was embedded; consent: the statement
    stored with the voice, if any.
    """
    record: dict[str, Any] = {
        "generator": GENERATOR, "generator_version": generator_version(), "content": CONTENT,
        "synthetic": True, "engine": engine, "voice_id": voice_hash, "seed": seed,
        "watermark": WATERMARK_NAME if watermark else NO_WATERMARK,
        "created": created or utc_now(),
    }
    if consent:
        record["consent"] = consent
    return record


def output_info(kind: str, text: str, voice: str, engine: str, settings: dict[str, Any],
                voice_hash: str | None, watermark: bool, seed: int | None = None,
                consent: str | None = None, **extra: Any) -> dict[str, Any]:
    """Everything stored in an output file: kind (speech/convert), text, voice name, settings
    and the provenance fields; ``extra`` (e.g. base_voice) is added as given."""
    return {"kind": kind, "text": text, "voice": voice, "settings": settings,
            **provenance(engine, voice_hash, watermark, seed, consent), **extra}

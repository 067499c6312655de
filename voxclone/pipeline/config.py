"""Pipeline configuration (model choice) apart from per-call style settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from voxclone.errors import InvalidSetting

EFFORT = {"fast": 0.35, "standard": 1.0, "high": 3.0}
"""Named efforts of the Kokoro style search, as multipliers of its standard time budget."""
STRENGTH_CHOICES = ("voice", "piece")


@dataclass(frozen=True)
class PipelineConfig:
    """Which engines a pipeline runs and how.

    tts: base TTS engine name (``espeak``).
    converter: tone-colour converter name (``world``) or ``none`` for the raw base voice.
    strength: conversion strength 0..1.
    output_sample_rate: sample rate of the returned audio in Hz (None: the converter's own).
    loudness_db: RMS level of the output in dBFS.
    base_voice_pool: how many base voices (closest in pitch to the target) are ranked by the
        speaker encoder after conversion; candidates come from the top of that ranking.
    effort: time the Kokoro style search may take per voice: "fast", "standard" (about 90 s on
        2 cores), "high", or a multiplier of the standard budget.
    search_steps: when set, the Kokoro style search runs exactly this many steps whatever the
        clock says (reproducible on a busy machine; for measurement) instead of the time budget.
    watermark: embed the inaudible Perth watermark in every output (post stage, at the
        output's sample rate); turn off only where the output is marked elsewhere or never leaves.
    search_first: Kokoro, a voice without a refined style yet: run the full style search before
        speaking (True), or speak at once with its start style, the closest bundled voice or
        blend (False; :meth:`VoiceCloner.prepare` refines it, which then replaces it).
    strength_choice: ``world-auto``: choose the strength once per voice and base voice from a
        calibration text, kept on disk ("voice"), or for every piece ("piece": four WORLD
        syntheses and five speaker embeddings per piece).
    match_rate: speak at the voice's own pace: the base TTS's speed scaled by the voice's
        speaking rate (syllables per second of speech in its clips, heard by the ASR) over the
        base voice's on the calibration text (:mod:`voxclone.pipeline.speaking_rate`).
    staged_adaptation: ``adapted`` as a default pipeline: the voice's map is learned with its
        refined Kokoro style (:meth:`VoiceCloner.prepare`, or ``search_first``), not for a start
        style on first use, and where there is none yet, or the clips are too short to learn
        one, WORLD's map speaks (``SayResult.converter`` says which). False: the map is learned
        on first use, and a voice too short for one is refused.
    """

    tts: str = "espeak"
    converter: str = "world"
    strength: float = 1.0
    output_sample_rate: int | None = None
    loudness_db: float = -20.0
    base_voice_pool: int = 6
    effort: str | float = "standard"
    search_steps: int | None = None
    watermark: bool = True
    search_first: bool = False
    strength_choice: str = "voice"
    match_rate: bool = False
    staged_adaptation: bool = False

    def __post_init__(self) -> None:
        if self.strength_choice not in STRENGTH_CHOICES:
            raise InvalidSetting(f"strength_choice={self.strength_choice!r}: use "
                                 f"{' or '.join(STRENGTH_CHOICES)}.")
        if not 0.0 <= self.strength <= 1.0:
            raise InvalidSetting(f"strength={self.strength} is out of range: use 0..1.")
        if isinstance(self.effort, str) and self.effort not in EFFORT:
            try:
                object.__setattr__(self, "effort", float(self.effort))
            except ValueError:
                raise InvalidSetting(f"effort={self.effort!r}: use {', '.join(EFFORT)} or a "
                                     "number (a multiple of the standard time).") from None
        if not isinstance(self.effort, str) and not 0.05 <= float(self.effort) <= 20.0:
            raise InvalidSetting(f"effort={self.effort} is out of range: use 0.05..20.")
        if self.search_steps is not None and not 1 <= self.search_steps <= 10000:
            raise InvalidSetting(f"search_steps={self.search_steps}: use 1..10000.")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PipelineConfig":
        """Build from a dict, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields."""
        return asdict(self)

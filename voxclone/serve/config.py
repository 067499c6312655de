"""Server configuration (fixed at start) and the settings the UI may change while it runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from voxclone.errors import InvalidSetting
from voxclone.pipeline.config import PipelineConfig

AUTO = "auto"
"""Engine setting meaning: the measured default of each request's language
(:func:`voxclone.pipeline.defaults.default_pipeline`), as ``voxclone say`` uses it."""
OUTPUT_RATES = (16000, 22050, 24000, 44100, 48000)
FORMATS = ("wav", "mp3", "flac", "opus", "pcm")


@dataclass(frozen=True)
class ServeConfig:
    """Limits and worker pool of ``voxclone serve``.

    workers: synthesis threads; max_pending: generations queued or running before 503;
    max_text_chars: longest ``input`` text; max_upload_bytes: largest uploaded file;
    max_clips: most reference files per voice upload; max_candidates: most candidates per call.
    allow_no_watermark: whether a request may turn the watermark off (``watermark: false``);
        off unless the operator starts the server with ``--allow-no-watermark``.
    warmup: load the engines and the voices' cached data in a background thread at start, so
        the first request does not pay for it (the server answers meanwhile).
    """

    workers: int = 2
    max_pending: int = 32
    max_text_chars: int = 4096
    max_upload_bytes: int = 20 * 1024 * 1024
    max_clips: int = 10
    max_candidates: int = 4
    allow_no_watermark: bool = False
    warmup: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.type != "bool" and getattr(self, f.name) < 1:
                raise InvalidSetting(f"{f.name}={getattr(self, f.name)}: use a positive number.")


@dataclass(frozen=True)
class RuntimeSettings:
    """What the Settings tab changes: output sample rate (Hz), volume (output RMS in dBFS),
    and the default base TTS engine and converter: ``"auto"`` (the default) takes the measured
    pair of each request's language, a name pins that engine for every language."""

    output_sample_rate: int = 24000
    volume_db: float = PipelineConfig().loudness_db
    tts: str = AUTO
    converter: str = AUTO

    @property
    def engine(self) -> str:
        """``tts:converter`` as set (``auto:auto`` shows as ``auto``)."""
        return AUTO if self.tts == self.converter == AUTO else f"{self.tts}:{self.converter}"

    def __post_init__(self) -> None:
        if self.output_sample_rate not in OUTPUT_RATES:
            raise InvalidSetting(f"output_sample_rate={self.output_sample_rate}: use one of "
                                 f"{', '.join(map(str, OUTPUT_RATES))}.")
        if not -40.0 <= self.volume_db <= -3.0:
            raise InvalidSetting(f"volume_db={self.volume_db} is out of range: use -40..-3 dBFS.")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RuntimeSettings":
        """Build from a dict, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields."""
        return asdict(self)

"""What a caller asks for (speech or conversion), checked before any work is queued."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from voxclone.convert.base import converter_names
from voxclone.errors import InvalidSetting, LimitExceeded, TextError
from voxclone.serve.config import FORMATS, RuntimeSettings, ServeConfig
from voxclone.tts.base import Style, tts_names
from voxclone.voices.names import validate_name

PRESETS: dict[str, dict[str, Any]] = {
    "fast": {"candidates": 1},
    "standard": {"candidates": 2},
    "high quality": {"candidates": 4},
}
"""UI presets: how many base voices speak the text (the output closest to the target is kept)."""


def parse_engine(spec: str | None, defaults: RuntimeSettings) -> tuple[str, str]:
    """``(tts, converter)`` from ``"tts:converter"``, a TTS name or a converter name.

    None or "" gives the defaults; an unknown name raises InvalidSetting listing the known ones.
    """
    if not spec:
        return defaults.tts, defaults.converter
    tts_known, conv_known = tts_names(), converter_names() + ["none"]
    if ":" in spec:
        tts, _, conv = spec.partition(":")
    elif spec in tts_known:
        tts, conv = spec, defaults.converter
    elif spec in conv_known:
        tts, conv = defaults.tts, spec
    else:
        tts, conv = spec, defaults.converter
    if tts not in tts_known or conv not in conv_known:
        raise InvalidSetting(f"Unknown engine '{spec}': use TTS:CONVERTER with a TTS engine of "
                             f"{', '.join(tts_known)} and a converter of {', '.join(conv_known)} "
                             "(e.g. 'espeak:world').")
    return tts, conv


@dataclass(frozen=True)
class SpeechJob:
    """One text-to-speech request. engine: "tts:converter" (None: the server's defaults);
    split: line delimiter for long text (None: sentences); format: one of ``FORMATS``;
    watermark: embed the watermark (False only where the server allows it); timestamps: also time
    every word (:attr:`Generation.words`)."""

    text: str
    voice: str
    lang: str = "en"
    engine: str | None = None
    speed: float = 1.0
    pitch: float = 0.0
    energy: float = 1.0
    seed: int | None = None
    candidates: int = 1
    split: str | None = None
    format: str = "wav"
    watermark: bool = True
    timestamps: bool = False

    @property
    def style(self) -> Style:
        """The style controls (range-checked)."""
        return Style(self.speed, self.pitch, self.energy)

    def check(self, config: ServeConfig, defaults: RuntimeSettings) -> tuple[str, str]:
        """Raise a typed error for anything out of range; return the ``(tts, converter)`` pair."""
        if not self.text.strip():
            raise TextError("The input text is empty: give something to say.")
        if len(self.text) > config.max_text_chars:
            raise LimitExceeded(f"The input text has {len(self.text)} characters; this server takes "
                                f"at most {config.max_text_chars}. Split it into several requests.")
        if not 1 <= self.candidates <= config.max_candidates:
            raise InvalidSetting(f"candidates={self.candidates}: use 1..{config.max_candidates}.")
        check_format(self.format)
        check_watermark(self.watermark, config)
        validate_name(self.voice)
        self.style  # noqa: B018 - range check
        return parse_engine(self.engine, defaults)

    def settings(self) -> dict[str, Any]:
        """The caller's choices, for history and file metadata (text and voice apart)."""
        data = asdict(self)
        for key in ("text", "voice", "engine"):
            data.pop(key)
        return data


def check_watermark(watermark: bool, config: ServeConfig) -> None:
    """InvalidSetting when a request turns the watermark off on a server that does not allow it."""
    if not watermark and not config.allow_no_watermark:
        raise InvalidSetting("This server marks every output: watermark=false is allowed only "
                             "when its operator starts it with --allow-no-watermark.")


def check_format(fmt: str) -> str:
    """``fmt`` if it is an output format the server writes, else InvalidSetting."""
    if fmt not in FORMATS:
        raise InvalidSetting(f"response_format '{fmt}' is not supported: use one of {', '.join(FORMATS)}.")
    return fmt

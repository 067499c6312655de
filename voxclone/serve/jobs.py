"""What a caller asks for (speech or conversion), checked before any work is queued."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from voxclone.convert.base import converter_names
from voxclone.errors import InvalidSetting, LimitExceeded, TextError
from voxclone.pipeline.defaults import default_converter, default_pipeline
from voxclone.serve.config import AUTO, FORMATS, RuntimeSettings, ServeConfig
from voxclone.text.languages import LANGUAGE_NAMES, normalize_language
from voxclone.tts.base import Style, tts_names
from voxclone.voices.names import validate_name

PRESETS: dict[str, dict[str, Any]] = {
    "fast": {"candidates": 1},
    "standard": {"candidates": 2},
    "high quality": {"candidates": 4},
}
"""UI presets: how many base voices speak the text (the output closest to the target is kept)."""


MEASURED_ORIGIN = "measured default"
"""How an engine half chosen by the language's measured default is described (``... for en``)."""


@dataclass(frozen=True)
class EngineChoice:
    """The engine pair a request runs and where each half came from ("request",
    "server setting" or "measured default for <lang>")."""

    tts: str
    converter: str
    tts_from: str
    converter_from: str

    @property
    def pair(self) -> tuple[str, str]:
        """``(tts, converter)``."""
        return self.tts, self.converter

    @property
    def converter_measured(self) -> bool:
        """Whether the converter is the language's measured default (an ``adapted`` one then
        learns its map with the refined style and speaks WORLD's map until then)."""
        return self.converter_from.startswith(MEASURED_ORIGIN)

    @property
    def source(self) -> str:
        """One line for the output's settings: where the pair came from."""
        if self.tts_from == self.converter_from:
            return self.tts_from
        return f"tts: {self.tts_from}, converter: {self.converter_from}"


def choose_engine(spec: str | None, defaults: RuntimeSettings, lang: str = "en") -> EngineChoice:
    """The pair for ``spec`` ("tts:converter", a TTS name, a converter name, "auto" or None).

    Missing halves come from the server's setting; an "auto" half (in ``spec`` or the setting)
    is the measured default of ``lang`` (for the converter, of the chosen TTS: see
    :func:`~voxclone.pipeline.defaults.default_converter`). An unknown name raises
    InvalidSetting listing the known ones; an unsupported ``lang`` raises UnsupportedLanguage
    where "auto" needs it.
    """
    tts, conv = engine_halves(spec)
    halves: list[tuple[str, str]] = []
    for asked, setting, i in ((tts, defaults.tts, 0), (conv, defaults.converter, 1)):
        name, origin = (asked, "request") if asked else (setting, "server setting")
        if name == AUTO:
            code = normalize_language(lang, tuple(LANGUAGE_NAMES))
            name = (default_pipeline(code)[0] if i == 0
                    else default_converter(code, halves[0][0]))
            origin = f"{MEASURED_ORIGIN} for {code}"
        halves.append((name, origin))
    return EngineChoice(halves[0][0], halves[1][0], halves[0][1], halves[1][1])


def parse_engine(spec: str | None, defaults: RuntimeSettings, lang: str = "en") -> tuple[str, str]:
    """``(tts, converter)`` of :func:`choose_engine`."""
    return choose_engine(spec, defaults, lang).pair


def engine_halves(spec: str | None) -> tuple[str, str]:
    """The (tts, converter) ``spec`` names, "" for a half it leaves out; InvalidSetting for an
    unknown name."""
    tts_known, conv_known = tts_names(), converter_names() + ["none"]
    tts, conv = _split(spec or "", tts_known, conv_known)
    if tts not in tts_known + [AUTO, ""] or conv not in conv_known + [AUTO, ""]:
        raise InvalidSetting(f"Unknown engine '{spec}': use TTS:CONVERTER with a TTS engine of "
                             f"{', '.join(tts_known)} and a converter of {', '.join(conv_known)} "
                             "(e.g. 'espeak:world'), or 'auto' (the measured default of the language).")
    return tts, conv


def _split(spec: str, tts_known: list[str], conv_known: list[str]) -> tuple[str, str]:
    """``spec`` as (tts, converter), "" for a half it does not name."""
    if ":" in spec:
        tts, _, conv = spec.partition(":")
        return tts, conv
    if spec == AUTO:
        return AUTO, AUTO
    if spec in conv_known and spec not in tts_known:
        return "", spec
    return spec, ""


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

    def check(self, config: ServeConfig, defaults: RuntimeSettings,
              library_voice: bool = True) -> EngineChoice:
        """Raise a typed error for anything out of range; return the engine pair to run.
        ``library_voice``: whether ``voice`` names a library voice (else a base voice id)."""
        if not self.text.strip():
            raise TextError("The input text is empty: give something to say.")
        if len(self.text) > config.max_text_chars:
            raise LimitExceeded(f"The input text has {len(self.text)} characters; this server takes "
                                f"at most {config.max_text_chars}. Split it into several requests.")
        if not 1 <= self.candidates <= config.max_candidates:
            raise InvalidSetting(f"candidates={self.candidates}: use 1..{config.max_candidates}.")
        check_format(self.format)
        check_watermark(self.watermark, config)
        if library_voice:
            validate_name(self.voice)
        self.style  # noqa: B018 - range check
        return choose_engine(self.engine, defaults, self.lang)

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

"""Warm-up at server start, in a background thread: the server answers while it runs.

It loads what a first request would otherwise pay for: the base TTS engines and converters of
the engine pairs the server's setting gives each language (Kokoro's sessions and phonemizers,
espeak-ng), the speaker encoder (world-auto and candidate scoring), the watermark model, each
library voice's cached Kokoro style, and then speaks one short sentence per engine pair with a
voice whose data is cached (nothing is saved or recorded). A voice with nothing cached is not
searched or built here: its first request does that, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from voxclone.errors import VoxcloneError
from voxclone.text.languages import LANGUAGE_NAMES

if TYPE_CHECKING:
    from voxclone.serve.service import Service

log = logging.getLogger(__name__)
WARM_TEXT = {"en": ("Hello there.", "How are you?"), "es": ("Hola.", "¿Qué tal?"),
             "fr": ("Bonjour.", "Ça va ?"), "ja": ("こんにちは。", "元気ですか。"),
             "zh": ("你好。", "你好吗？"), "ko": ("안녕하세요.", "잘 지내요?")}
"""Two short sentences per language (one sentence and two take different paths in Kokoro)."""


@dataclass
class WarmupStatus:
    """state: "idle", "running", "done" (errors: the steps that failed, with why);
    steps_ms: milliseconds per step; seconds: the whole warm-up."""

    state: str = "idle"
    seconds: float | None = None
    steps_ms: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``/health``."""
        return {"state": self.state, "seconds": self.seconds, "steps_ms": dict(self.steps_ms),
                "errors": list(self.errors)}


class Warmup:
    """The warm-up of one :class:`Service` (started once, in a daemon thread)."""

    def __init__(self, service: "Service") -> None:
        self.service = service
        self.status = WarmupStatus()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin in the background (a second call does nothing)."""
        if self._thread is None:
            self.status.state = "running"
            self._thread = threading.Thread(target=self.run, name="voxclone-warmup", daemon=True)
            self._thread.start()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the warm-up has ended; whether it did within ``timeout_s``."""
        return self._done.wait(timeout_s)

    def run(self) -> None:
        """Every step in order; a failing step is recorded and the rest still run."""
        start = time.perf_counter()
        self.status.state = "running"
        try:
            pairs = self.pairs()
            for tts in sorted({t for t, _ in pairs}):
                langs = [lang for (t, _), ls in pairs.items() if t == tts for lang in ls]
                self._step(f"tts {tts}", self._warm_tts, tts, langs)
            for conv in sorted({c for _, c in pairs if c != "none"}):
                self._step(f"converter {conv}", self._warm_converter, conv)
            self._step("speaker encoder", self._warm_encoder)
            self._step("watermark", self._warm_watermark)
            if any(t == "kokoro" for t, _ in pairs):
                self._step("kokoro styles", self._load_styles)
            for (tts, conv), langs in pairs.items():
                self._step(f"speak {tts}:{conv}", self._speak, tts, conv, langs[0])
        finally:
            self.status.seconds = round(time.perf_counter() - start, 2)
            self.status.state = "done"
            self._done.set()
            log.info("warm-up done in %.1f s (%s)", self.status.seconds,
                     "; ".join(self.status.errors) or "no errors")

    def pairs(self) -> dict[tuple[str, str], list[str]]:
        """Engine pair → the languages the server's setting gives it."""
        from voxclone.serve.jobs import parse_engine

        out: dict[tuple[str, str], list[str]] = {}
        for lang in LANGUAGE_NAMES:
            out.setdefault(parse_engine(None, self.service.runtime, lang), []).append(lang)
        return out

    def _step(self, name: str, fn: Any, *args: Any) -> None:
        start = time.perf_counter()
        try:
            note = fn(*args)
        except (VoxcloneError, OSError, RuntimeError, ValueError) as exc:
            self.status.errors.append(f"{name}: {exc}")
            log.warning("warm-up step %s failed: %s", name, exc)
            note = None
        self.status.steps_ms[name + (f" ({note})" if note else "")] = round(
            1000.0 * (time.perf_counter() - start), 1)

    def _warm_tts(self, name: str, langs: list[str]) -> str:
        from voxclone.tts.base import get_tts

        engine = get_tts(name)
        spoken = [lang for lang in langs if lang in engine.languages]
        for i, lang in enumerate(spoken):
            engine.synthesize(WARM_TEXT[lang][0], lang)
            if i == 0:
                engine.synthesize(" ".join(WARM_TEXT[lang]), lang)
        return ", ".join(spoken)

    def _warm_converter(self, name: str) -> None:
        from voxclone.convert.base import get_converter

        get_converter(name)

    def _warm_encoder(self) -> None:
        from voxclone.audio.speaker import speaker_encoder
        from voxclone.tts.base import get_tts

        speaker_encoder().embed(get_tts("espeak").synthesize(" ".join(WARM_TEXT["en"]), "en"))

    def _warm_watermark(self) -> None:
        from voxclone.provenance.hook import mark
        from voxclone.tts.base import get_tts

        mark(get_tts("espeak").synthesize(" ".join(WARM_TEXT["en"]), "en"))

    def _load_styles(self) -> str:
        """Read every library voice's cached Kokoro style once; "N of M cached"."""
        names = [v.name for v in self.service.library.list()]
        found = sum(self._cached_style(n) is not None for n in names)
        return f"{found} of {len(names)} voices cached"

    def _cached_style(self, name: str) -> Any:
        from voxclone.pipeline.config import PipelineConfig
        from voxclone.pipeline.kokoro_clone import StyleSearchConfig
        from voxclone.pipeline.style_cache import load_style, style_path
        from voxclone.tts.base import get_tts

        hashes = [c.sha256 for c in self.service.library.info(name).clips]
        config = StyleSearchConfig(effort=PipelineConfig().effort)
        return load_style(style_path(hashes, config, get_tts("kokoro"), self.service.settings))

    def _speak(self, tts: str, conv: str, lang: str) -> str:
        """One sentence with the first voice whose data is cached (the style for Kokoro, the
        profile otherwise); nothing saved."""
        from voxclone.convert.base import get_converter
        from voxclone.pipeline.cloner import PROFILE_CONVERTER
        from voxclone.tts.base import Style

        converter = get_converter(conv if conv != "none" else PROFILE_CONVERTER)
        library = self.service.library
        for info in library.list():
            cached = (self._cached_style(info.name) is not None if tts == "kokoro"
                      else library.cached_profile(info.name, converter) is not None)
            if cached:
                cloner = self.service._cloner(tts, conv, self.service.runtime)
                cloner.synthesize(WARM_TEXT[lang][0], info.name, lang, Style())
                return f"{info.name}, {lang}"
        return "no voice with cached data"

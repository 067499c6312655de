"""VoiceConversionPipeline: existing speech → the same speech in a target voice."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from voxclone.audio.dsp import match_loudness, resample, rms_db, warmup_tone
from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.convert.base import Converter, ConvertSettings, get_converter
from voxclone.errors import EngineUnavailable, InvalidSetting, ReferenceTooShort, VoxcloneError
from voxclone.pipeline.config import PipelineConfig
from voxclone.pipeline.voice import VoiceRef, resolve_profile
from voxclone.provenance.hook import mark
from voxclone.timing import StageTimer
from voxclone.voices.profile import VoiceProfile
from voxclone.voices.store import VoiceLibrary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversionProfile:
    """Timing of one conversion: total and per-stage milliseconds, real-time factor."""

    total_ms: float
    stages_ms: dict[str, float]
    rtf: float
    duration_s: float


class VoiceConversionPipeline:
    """Convert recorded speech into a voice: ``VoiceConversionPipeline().convert(audio, "alice")``."""

    def __init__(self, config: PipelineConfig = PipelineConfig(), library: VoiceLibrary | None = None,
                 settings: Settings | None = None, fallback: str | None = None) -> None:
        """``fallback``: the converter of voices the configured one refuses as too short
        (:class:`~voxclone.errors.ReferenceTooShort`); None: the error is raised."""
        if config.converter == "none":
            raise EngineUnavailable("Voice conversion needs a converter: use 'world' or 'openvoice-v2'.")
        self.config = config
        self.settings = settings or Settings()
        self.library = library or VoiceLibrary(self.settings)
        self.converter: Converter = get_converter(config.converter)
        if getattr(self.converter, "adapts_to_base_voice", False):
            raise InvalidSetting(f"The {config.converter} converter maps one base TTS voice to the "
                                 "voice it was adapted on: it is for `say`; convert speech with "
                                 "'world', 'knn' or 'openvoice-v2'.")
        self.fallback = fallback if fallback != config.converter else None
        self._lock = threading.Lock()
        self._conversions = 0
        self._failures = 0
        self._seconds = 0.0

    def profile(self, voice: VoiceRef) -> VoiceProfile:
        """The profile of ``voice`` (library name, reference files or profile); with a
        ``fallback``, that converter's profile when the configured one finds too little speech
        (its ``converter`` says which one converts)."""
        try:
            return resolve_profile(voice, self.converter, self.library)
        except ReferenceTooShort as exc:
            if self.fallback is None:
                raise
            prof = resolve_profile(voice, get_converter(self.fallback), self.library)
            log.warning("%s Converting with the %s converter instead.", exc, self.fallback)
            return prof

    def convert(self, audio: Audio, voice: VoiceRef, pitch_shift: float = 0.0,
                strength: float | None = None, timer: StageTimer | None = None,
                f0_method: str | None = None) -> Audio:
        """``audio`` spoken in ``voice``; ``pitch_shift`` in semitones on top of the mapped pitch;
        ``f0_method``: the source's F0 tracker (None: :class:`ConvertSettings`' default)."""
        start = time.perf_counter()
        try:
            out = self._convert(audio, voice, pitch_shift, strength, timer or StageTimer(), f0_method)
        except Exception:
            self._count(time.perf_counter() - start, failed=True)
            raise
        self._count(time.perf_counter() - start, failed=False)
        return out

    def batch_convert(self, items: list[Audio], voice: VoiceRef, pitch_shift: float = 0.0,
                      ) -> list[Audio | VoxcloneError]:
        """Convert many clips; an item that fails yields its error instead of stopping the batch."""
        profile = self.profile(voice)
        out: list[Audio | VoxcloneError] = []
        for audio in items:
            try:
                out.append(self.convert(audio, profile, pitch_shift))
            except VoxcloneError as exc:
                log.warning("conversion failed: %s", exc)
                out.append(exc)
        return out

    def profile_conversion(self, audio: Audio, voice: VoiceRef, f0_method: str | None = None,
                           ) -> ConversionProfile:
        """Convert once and report total/per-stage milliseconds and RTF (profile built beforehand)."""
        prof = self.profile(voice)
        timer = StageTimer()
        start = time.perf_counter()
        self.convert(audio, prof, timer=timer, f0_method=f0_method)
        total = 1000.0 * (time.perf_counter() - start)
        return ConversionProfile(total, dict(timer.ms), total / 1000.0 / audio.duration, audio.duration)

    def warmup(self, voice: VoiceRef | None = None) -> None:
        """Run one short conversion so later calls pay no first-call costs."""
        tone = warmup_tone()
        if voice is not None:
            self.convert(tone, voice)
        elif hasattr(self.converter, "warmup"):
            self.converter.warmup()
        else:
            self.converter.convert(tone, self.converter.features([tone]), ConvertSettings())

    def stats(self) -> dict[str, float | int | str]:
        """Conversions, failures, mean milliseconds per conversion and the engine name."""
        with self._lock:
            n = self._conversions + self._failures
            mean = 1000.0 * self._seconds / n if n else 0.0
            return {"conversions": self._conversions, "failures": self._failures,
                    "mean_ms": mean, "engine": self.converter.name}

    def _convert(self, audio: Audio, voice: VoiceRef, pitch_shift: float, strength: float | None,
                 timer: StageTimer, f0_method: str | None = None) -> Audio:
        with timer.stage("profile"):
            prof = self.profile(voice)
        settings = ConvertSettings(strength=self.config.strength if strength is None else strength,
                                   pitch_shift=pitch_shift,
                                   **({"f0_method": f0_method} if f0_method else {}))
        level = rms_db(audio)
        converter = (self.converter if prof.converter == self.converter.name
                     else get_converter(prof.converter))
        out = converter.convert(audio, prof.features, settings, timer=timer)
        with timer.stage("post"):
            if self.config.output_sample_rate:
                out = resample(out, self.config.output_sample_rate)
            out = match_loudness(out, level if np.isfinite(level) else self.config.loudness_db)
            return mark(out) if self.config.watermark else out

    def _count(self, seconds: float, failed: bool) -> None:
        with self._lock:
            self._seconds += seconds
            if failed:
                self._failures += 1
            else:
                self._conversions += 1

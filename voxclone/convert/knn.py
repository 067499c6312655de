"""Nearest-neighbour conversion (``knn``): the source speaks with the envelopes of the target's frames.

WORLD's mean/variance map moves only the statistics of the source's envelope. Here each 20 ms
window of the source is matched, in a phonetic space (an early layer of the bundled Whisper
encoder, local in time), to the ``k`` nearest windows of the target's own clips with the same
voicing; the mean of their mel-cepstra is blended into the WORLD-mapped envelope at ``blend``,
smoothed over time, each order's spread then widened back to the WORLD-mapped envelope's (the
mean of neighbours narrows it). The source's formants are first warped toward the voice's (the
warp of :data:`~voxclone.convert.warp.WARPS` the speaker encoder prefers, per utterance), and
the mapped pitch optionally offset by the one of ``pitches`` it prefers. The source
keeps its timing, energy (c0) and aperiodicity; F0 is mapped to the target's range as in
:class:`~voxclone.convert.world.WorldConverter`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from voxclone.audio.dsp import warmup_tone
from voxclone.audio.speaker import speaker_encoder
from voxclone.audio.types import Audio
from voxclone.convert.base import ConvertSettings, Features
from voxclone.convert.matching_set import MatchingSet, unit, window_means
from voxclone.convert.warp import WARPS
from voxclone.convert.world import PITCH_CHOICES, Analysis, WorldConfig, WorldConverter
from voxclone.errors import AudioError, EngineUnavailable, InvalidSetting
from voxclone.timing import StageTimer, maybe_stage

KNN_DYNAMICS = True
"""knn brings the frame energy's spread to the voice's (:mod:`voxclone.convert.dynamics`):
measured on the dev set's conversions, where its sources are recorded speech (README)."""
KNN_PITCHES = PITCH_CHOICES
"""knn chooses its pitch offset per utterance among these (``pitches=()``: no choice)."""
SUPPORTED_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
"""Input sample rates (Hz) accepted; the phonetic encoder runs at 16 kHz."""


@dataclass(frozen=True)
class KnnConfig:
    """Matching settings (any change changes ``KnnConverter.version``).

    encoder: bundled Whisper model whose encoder gives the phonetic keys (``tiny.en``, ``base``);
    layer: encoder block whose output is the key (0-based; early blocks are local in time);
    k: neighbours averaged per window; blend: share of the matched envelope in the output
    (0 = the WORLD map alone, 1 = the matched envelope alone); smooth_frames: moving-average
    length over WORLD frames (5 ms each) of the matched envelope. center: subtract each
    speaker's mean key (over its speech windows) before matching, a cepstral-mean-like
    normalisation that leaves more phone and less speaker in the keys. guide_weight: how much
    the candidates' distance to the WORLD-mapped source envelope counts against their phonetic
    similarity (0: phonetic keys alone). blend_range: (low, high) instead of one ``blend``:
    each 20 ms window's blend by how near its neighbours lie, ranked within the utterance
    (the nearest ``high``, the farthest ``low``; smoothed as the envelope is). spread: each
    order's spread over the utterance widened back to the WORLD-mapped envelope's after the
    blend (:func:`~voxclone.convert.dynamics.with_order_spread`); on by default, measured on
    the dev set's conversions (README).
    """

    encoder: str = "tiny.en"
    layer: int = 1
    k: int = 4
    blend: float = 0.25
    smooth_frames: int = 9
    center: bool = False
    guide_weight: float = 0.0
    blend_range: tuple[float, float] | None = None
    spread: bool = True


class KnnConverter(WorldConverter):
    """:class:`WorldConverter` whose voiced and unvoiced envelopes are pulled toward the
    target's own nearest frames (features: WORLD statistics + ``matching_set``)."""

    name = "knn"

    def __init__(self, config: WorldConfig = WorldConfig(), knn: KnnConfig = KnnConfig(),
                 keys: Callable[[Audio], np.ndarray] | None = None,
                 dynamics: bool = KNN_DYNAMICS, warps: tuple[float, ...] = WARPS,
                 pitches: tuple[float, ...] = KNN_PITCHES) -> None:
        """``keys``: audio → its phonetic keys (T, D), one per 20 ms, as ``knn.encoder`` and
        ``knn.layer`` name them (the pipeline layer hands in the Whisper encoder's);
        ``dynamics``, ``warps``, ``pitches``: as :class:`~voxclone.convert.world.WorldConverter`'s
        (the source's formants warped toward the voice's before the matching and the map, then
        the pitch offset chosen)."""
        super().__init__(config, dynamics, warps, pitches)
        self._keys = keys
        blends = (knn.blend, *(knn.blend_range or ()))
        if (not all(0.0 <= b <= 1.0 for b in blends) or knn.k < 1 or knn.smooth_frames < 1
                or (knn.blend_range is not None and len(knn.blend_range) != 2)):
            raise InvalidSetting(f"Bad kNN settings {knn}: blends 0..1 (blend_range: low, high), "
                                 "k ≥ 1, smooth_frames ≥ 1.")
        self.knn = knn
        self.version = f"{self.version}:knn-1:" + "-".join(str(v) for v in asdict(knn).values())
        self._per_window = round(20.0 / config.frame_period_ms)

    def features(self, clips: list[Audio]) -> Features:
        """WORLD's target statistics and classes plus the clips' matching set (see
        :mod:`voxclone.convert.matching_set`); each clip is analysed once."""
        for clip in clips:
            _check_rate(clip)
        parts = [self.analyze(c, self.config.target_f0_method, False) for c in clips]
        out = self._features_of(parts)
        out["matching_set"] = self.matching_set(clips, parts).to_text()
        return self.with_embedding(out, clips)

    def warmup(self) -> None:
        """Load the phonetic encoder and the speaker encoder (their first calls are slow)."""
        tone = warmup_tone()
        self.keys(tone)
        if self.warps or self.pitches:
            speaker_encoder().embed(tone)

    def matching_set(self, clips: list[Audio], parts: list[Analysis]) -> MatchingSet:
        """The matching set of ``clips`` from their WORLD analyses ``parts``."""
        bank = MatchingSet.concatenate([self._clip_set(c, an) for c, an in zip(clips, parts)])
        bank.keys = self._normalise(bank.keys, np.ones(len(bank), dtype=bool))
        return bank

    def _normalise(self, keys: np.ndarray, speech: np.ndarray) -> np.ndarray:
        """Unit-length keys, centred on the mean of the ``speech`` rows when configured."""
        if self.knn.center and speech.any():
            keys = keys - keys[speech].mean(axis=0)
        return unit(keys)

    def keys(self, audio: Audio) -> np.ndarray:
        """Phonetic keys (T, D) of ``audio``, one per 20 ms, from the key function given."""
        if self._keys is None:
            raise EngineUnavailable("The knn converter needs a phonetic encoder: build it with "
                                    "voxclone.pipeline.knn.knn_converter() or get_converter('knn').")
        return self._keys(audio)

    def _windows(self, an: Analysis, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-window mean c1.. (n, order), voicing and speech flags (n,) of an analysis."""
        w = self._per_window
        values = window_means(an.mcep[:, 1:], w, n)
        voiced = window_means((an.f0 > 0).astype(float)[:, None], w, n)[:, 0] >= 0.5
        speech = window_means(an.speech.astype(float)[:, None], w, n)[:, 0] >= 0.5
        return values, voiced, speech

    def _clip_set(self, clip: Audio, an: Analysis) -> MatchingSet:
        keys = self.keys(clip)
        values, voiced, speech = self._windows(an, len(keys))
        return MatchingSet(keys[speech], values[speech], voiced[speech])

    def convert(self, audio: Audio, target: Features, settings: ConvertSettings = ConvertSettings(),
                source: Features | None = None, timer: StageTimer | None = None) -> Audio:
        """``audio`` in the target's voice at ``config.sample_rate``; as long as the source.

        ``timer`` collects ``analysis``, ``matching``, ``conversion`` and ``synthesis``.
        """
        _check_rate(audio)
        if "matching_set" not in target:
            raise InvalidSetting("These voice features hold no matching set: build the voice's "
                                 "profile with the knn converter.")
        with maybe_stage(timer, "analysis"):
            an = self.analyze(audio, settings.f0_method)  # type: ignore[arg-type]
        an, source, settings = self.chosen_analysis(an, target, settings, source, timer)
        with maybe_stage(timer, "conversion"):
            src = source or self._stats([an])
            mapped = self.mapped_mcep(an, src, target, 1.0)
        with maybe_stage(timer, "matching"):
            bank = MatchingSet.from_text(target["matching_set"])
            matched, blend = self.matched(audio, an, bank, mapped[:, 1:])
        with maybe_stage(timer, "conversion"):
            mcep = self.pulled_mcep(an, mapped, matched, blend, settings.strength,
                                    spread=self.knn.spread)
            mcep = self.with_voice_dynamics(mcep, an, src, target, settings.strength)
        out = self.synthesize(an, mcep, src, target, settings, timer)
        return _fit_length(out, round(len(audio) * out.sample_rate / audio.sample_rate))

    def matched_mcep(self, audio: Audio, an: Analysis, bank: MatchingSet,
                     guide: np.ndarray | None = None) -> np.ndarray:
        """The matched envelope c1.. (T, order) of every WORLD frame of ``an``, smoothed; frames
        outside speech keep their own. ``guide`` (T, order): the mapped source envelope that
        ``guide_weight`` compares candidates with."""
        return self.matched(audio, an, bank, guide)[0]

    def matched(self, audio: Audio, an: Analysis, bank: MatchingSet,
                guide: np.ndarray | None = None) -> tuple[np.ndarray, float | np.ndarray]:
        """:meth:`matched_mcep`'s envelope and the blend to pull it in at: ``blend``, or with
        ``blend_range`` one per frame (T, 1) by how near the frame's neighbours lie."""
        keys = self.keys(audio)
        _, voiced, speech = self._windows(an, len(keys))
        if guide is not None:
            guide = window_means(guide, self._per_window, len(keys))
        per_window, near = bank.nearest(self._normalise(keys, speech), voiced, self.knn.k, guide,
                                        self.knn.guide_weight)
        frame_window = np.minimum(np.arange(len(an.mcep)) // self._per_window, len(keys) - 1)
        matched = uniform_filter1d(per_window[frame_window], self.knn.smooth_frames, axis=0,
                                   mode="nearest")
        matched = np.where(an.speech[:, None], matched, an.mcep[:, 1:])
        if self.knn.blend_range is None:
            return matched, self.knn.blend
        low, high = self.knn.blend_range
        rank = np.argsort(np.argsort(near, kind="stable"), kind="stable") / max(len(near) - 1, 1)
        blend = uniform_filter1d((low + (high - low) * rank)[frame_window], self.knn.smooth_frames,
                                 mode="nearest")
        return matched, blend[:, None]


def _fit_length(audio: Audio, n: int) -> Audio:
    """``audio`` cut or zero-padded to ``n`` samples (WORLD ends on a frame boundary)."""
    x = audio.samples[:n]
    return Audio(np.pad(x, (0, n - len(x))), audio.sample_rate)


def _check_rate(audio: Audio) -> None:
    if int(audio.sample_rate) not in SUPPORTED_RATES:
        raise AudioError(f"Sample rate {audio.sample_rate} Hz is not supported by the knn converter: "
                         f"use one of {', '.join(str(r) for r in SUPPORTED_RATES)} Hz "
                         "(resample the audio first).")
    if not np.isfinite(audio.samples).all() or float(np.abs(audio.samples).max(initial=0.0)) < 1e-4:
        raise AudioError("The audio is silent (or not finite): there is no speech to convert.")


"""Conversion with a per-voice frame map learned from parallel speech (``adapted``).

The voice's clips and the base TTS speaking the same words give aligned frame pairs (built by
:mod:`voxclone.pipeline.adapt`); a :class:`~voxclone.convert.frame_map.FrameMap` learns the
base voice's mel-cepstra → the target's. At conversion the map's output is blended (``blend``)
into WORLD's mean/variance-mapped envelope on speech frames; c0 (frame energy), timing and
aperiodicity stay the source's, F0 is mapped to the target's range as in
:class:`~voxclone.convert.world.WorldConverter`. Optionally (:mod:`voxclone.convert.prosody_map`)
an F0 map learned from the same pairs corrects the base voice's intonation toward the voice's
(``f0_blend``), and the frame energy's spread is brought to the voice's (``dynamics``). The map is
only valid for the base voice it was trained on: it is made for ``say``, not for converting other
people's speech.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from voxclone.audio.types import Audio
from voxclone.convert.base import ConvertSettings, Features, register_converter
from voxclone.convert import prosody_map
from voxclone.convert.frame_map import FrameMap, FrameMapConfig, context_frames, decoded_map
from voxclone.convert.world import PITCH_CHOICES, Analysis, WorldConfig, WorldConverter
from voxclone.errors import InvalidSetting, ReferenceTooShort
from voxclone.timing import StageTimer, maybe_stage

log = logging.getLogger(__name__)

DEFAULT_BLEND = 0.5
"""Share of the learned envelope in the output (measured on the dev set: see the README)."""
DEFAULT_F0_BLEND = 0.5
"""Share of the F0 map's correction of the base voice's intonation (measured on the dev set:
see the README)."""
DEFAULT_DYNAMICS = True
"""Whether the frame energy's spread is brought to the voice's (measured: see the README)."""


@dataclass
class ParallelUtterance:
    """One enrolment clip and the base TTS speaking its words: WORLD analyses of both and the
    aligned frame pairs ``path`` (P, 2) of (source frame, target frame) indices."""

    source: Analysis
    target: Analysis
    path: np.ndarray


class AdaptedConverter(WorldConverter):
    """:class:`WorldConverter` whose envelope on speech frames comes (at ``blend``) from the
    voice's own frame map (features: WORLD statistics + ``adaptation``)."""

    name = "adapted"
    adapts_to_base_voice = True
    """The pipeline adds the voice's ``adaptation`` for the base voice it speaks with."""

    def __init__(self, config: WorldConfig = WorldConfig(),
                 frame_map: FrameMapConfig = FrameMapConfig(), blend: float = DEFAULT_BLEND,
                 residual: bool = False, f0_blend: float = DEFAULT_F0_BLEND,
                 dynamics: bool = DEFAULT_DYNAMICS, f0_smooth: int = 0,
                 pitches: tuple[float, ...] = PITCH_CHOICES, spread: bool = False) -> None:
        """``residual``: the map learns the target's envelope minus WORLD's mapped one (where it
        cannot tell, it falls back to WORLD's map rather than to an average envelope);
        ``f0_blend``: share of the F0 map's correction of the intonation (0 = WORLD's F0 map
        alone); ``dynamics``: bring the frame energy's spread to the voice's; ``f0_smooth``:
        frames (5 ms) of the moving average the F0 map's correction is smoothed by (0: none);
        ``pitches``: as :class:`~voxclone.convert.world.WorldConverter`'s, chosen on this
        converter's own conversion of the utterance's head (``()``: no choice); ``spread``: each
        envelope order's spread widened back to WORLD's mapped envelope's after the blend
        (:func:`~voxclone.convert.dynamics.with_order_spread`)."""
        super().__init__(config, dynamics, pitches=pitches)
        if not 0.0 <= blend <= 1.0 or not 0.0 <= f0_blend <= 1.0:
            raise InvalidSetting(f"blend={blend}, f0_blend={f0_blend}: use 0..1.")
        self.frame_map, self.blend, self.residual = frame_map, blend, residual
        if f0_smooth < 0:
            raise InvalidSetting(f"f0_smooth={f0_smooth}: use 0 or more frames.")
        self.f0_blend, self.f0_smooth, self.spread = f0_blend, f0_smooth, spread
        self.version = (f"{self.version}:adapted-1:{frame_map.key}:{blend}"
                        + (":residual" if residual else "")
                        + (f":f0-{f0_blend}" if f0_blend else "")
                        + (f":f0-smooth-{f0_smooth}" if f0_smooth else ""))
        self.adaptation_version = self.version.replace(self.pitch_tag, "", 1)
        """What a learned map depends on: ``version`` less the pitch choice and the spread,
        which act at conversion (a map learned before either came on stays valid)."""
        self.version += ":spread" if spread else ""

    def training_frames(self, pairs: list[ParallelUtterance]) -> tuple[np.ndarray, np.ndarray]:
        """Inputs (N, F) and targets (N, order) of the aligned speech frames of ``pairs`` (with
        ``residual``, the targets less WORLD's mapped source envelope)."""
        xs, ys = [], []
        target = self._features_of([p.target for p in pairs]) if self.residual else None
        for p in pairs:
            src, tgt, path = p.source, p.target, p.path
            keep = src.speech[path[:, 0]] & tgt.speech[path[:, 1]]
            inputs = context_frames(src.mcep[:, 1:], src.f0 > 0, self.frame_map.context,
                                    self.frame_map.stride)
            xs.append(inputs[path[keep, 0]])
            y = tgt.mcep[path[keep, 1], 1:]
            if target is not None:
                y = y - self.mapped_mcep(src, self._stats([src]), target, 1.0)[path[keep, 0], 1:]
            ys.append(y)
        return np.concatenate(xs), np.concatenate(ys)

    def adaptation(self, pairs: list[ParallelUtterance]) -> Features:
        """The features a voice's adaptation adds to its WORLD ones: the fitted map (text), and
        with ``f0_blend`` the F0 map (text; absent for clips with too little voiced speech),
        with ``dynamics`` the dynamics ratio."""
        x, y = self.training_frames(pairs)
        out: Features = {"adaptation": FrameMap.fit(x, y, self.frame_map).to_text(),
                         "adaptation_frames": int(len(x))}
        if self.f0_blend:
            stats = self._stats([p.target for p in pairs])
            try:
                out["f0_adaptation"] = prosody_map.fit_f0_map(
                    pairs, stats["lf0_mean"], stats["lf0_std"], self.frame_map).to_text()
            except ReferenceTooShort as exc:
                log.warning("no F0 map (%s): WORLD's F0 map speaks", exc)
        if self.voice_dynamics:
            out["dynamics_ratio"] = prosody_map.dynamics_ratio(pairs)
        return out

    def convert(self, audio: Audio, target: Features, settings: ConvertSettings = ConvertSettings(),
                source: Features | None = None, timer: StageTimer | None = None) -> Audio:
        """``audio`` (the base TTS the map was trained on) in the target's voice, at
        ``config.sample_rate``; stages ``analysis``, ``conversion``, ``synthesis``."""
        if "adaptation" not in target:
            raise InvalidSetting("This voice is not adapted to a base voice yet: run "
                                 "`voxclone voices adapt NAME` (or use another converter).")
        with maybe_stage(timer, "analysis"):
            an = self.analyze(audio, settings.f0_method)  # type: ignore[arg-type]
        settings = self.pitched_settings(an, target, settings, source, timer)
        with maybe_stage(timer, "conversion"):
            src = source or self._stats([an])
            mcep = self._adapted_mcep(an, src, target, settings)
        return self.synthesize(an, mcep, src, target, settings, timer)

    def _adapted_mcep(self, an: Analysis, src: Features, target: Features,
                      settings: ConvertSettings) -> np.ndarray:
        """The envelope (T, order+1): WORLD's map pulled toward the learned one on speech
        frames, with the dynamics."""
        mapped = self.mapped_mcep(an, src, target, 1.0)
        learned = decoded_map(target["adaptation"]).predict(an.mcep, an.f0 > 0)
        if self.residual:
            learned = learned + mapped[:, 1:]
        mcep = self.pulled_mcep(an, mapped, learned, self.blend, settings.strength, an.speech,
                                spread=self.spread)
        return self.with_voice_dynamics(mcep, an, src, target, settings.strength)

    def _choice_conversion(self, an: Analysis, src: Features, target: Features,
                           settings: ConvertSettings) -> Audio:
        """The pitch choice compares this converter's own output (its map is a small MLP)."""
        return self.synthesize(an, self._adapted_mcep(an, src, target, settings), src, target,
                               settings)

    def dynamics_ratio(self, an: Analysis, src: Features, target: Features) -> float:
        """The ratio learned on the parallel pairs (the same words on both sides), 1.0 if none."""
        return float(target.get("dynamics_ratio", 1.0))

    def _map_f0(self, f0: np.ndarray, src: Features, tgt: Features,  # type: ignore[override]
                s: ConvertSettings) -> np.ndarray:
        """WORLD's F0 map, with ``f0_blend`` of the F0 map's intonation (in the target's
        standardised log-F0, scaled by the settings' intonation width ``energy``); WORLD's alone
        for a voice whose clips had too little voiced speech for an F0 map."""
        out = WorldConverter._map_f0(f0, src, tgt, s)
        voiced = f0 > 0
        if (not self.f0_blend or "f0_adaptation" not in tgt or voiced.sum() < 2
                or not np.isfinite(src["lf0_mean"])):
            return out
        shift = s.pitch_shift * np.log(2.0) / 12.0
        mean, std = tgt["lf0_mean"], max(tgt["lf0_std"], 1e-3)
        z = (np.log(out[voiced]) - shift - mean) / std
        f0_map = decoded_map(tgt["f0_adaptation"])
        goal = s.energy * prosody_map.mapped_f0_z(f0_map, f0, src["lf0_mean"], src["lf0_std"])
        correction = goal - z
        if self.f0_smooth > 1:  # over the voiced frames in order
            correction = uniform_filter1d(correction, self.f0_smooth, mode="nearest")
        z = z + s.strength * self.f0_blend * correction
        out[voiced] = np.exp(mean + std * z + shift)
        return out


register_converter("adapted", AdaptedConverter)

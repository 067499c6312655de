"""Conversion with a per-voice frame map learned from parallel speech (``adapted``).

The voice's clips and the base TTS speaking the same words give aligned frame pairs (built by
:mod:`voxclone.pipeline.adapt`); a :class:`~voxclone.convert.frame_map.FrameMap` learns the
base voice's mel-cepstra → the target's. At conversion the map's output is blended (``blend``)
into WORLD's mean/variance-mapped envelope on speech frames; c0 (frame energy), timing and
aperiodicity stay the source's, F0 is mapped to the target's range as in
:class:`~voxclone.convert.world.WorldConverter`. The map is only valid for the base voice it was
trained on: it is made for ``say``, not for converting other people's speech.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxclone.audio.types import Audio
from voxclone.convert.base import ConvertSettings, Features, register_converter
from voxclone.convert.frame_map import FrameMap, FrameMapConfig, context_frames
from voxclone.convert.world import Analysis, WorldConfig, WorldConverter
from voxclone.errors import InvalidSetting
from voxclone.timing import StageTimer, maybe_stage

DEFAULT_BLEND = 0.5
"""Share of the learned envelope in the output (measured on the dev set: see the README)."""


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
                 residual: bool = False) -> None:
        """``residual``: the map learns the target's envelope minus WORLD's mapped one (where it
        cannot tell, it falls back to WORLD's map rather than to an average envelope)."""
        super().__init__(config)
        if not 0.0 <= blend <= 1.0:
            raise InvalidSetting(f"blend={blend}: use 0..1.")
        self.frame_map, self.blend, self.residual = frame_map, blend, residual
        self.version = (f"{self.version}:adapted-1:{frame_map.key}:{blend}"
                        + (":residual" if residual else ""))

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
        """The features a voice's adaptation adds to its WORLD ones: the fitted map (text)."""
        x, y = self.training_frames(pairs)
        return {"adaptation": FrameMap.fit(x, y, self.frame_map).to_text(),
                "adaptation_frames": int(len(x))}

    def convert(self, audio: Audio, target: Features, settings: ConvertSettings = ConvertSettings(),
                source: Features | None = None, timer: StageTimer | None = None) -> Audio:
        """``audio`` (the base TTS the map was trained on) in the target's voice, at
        ``config.sample_rate``; stages ``analysis``, ``conversion``, ``synthesis``."""
        if "adaptation" not in target:
            raise InvalidSetting("This voice is not adapted to a base voice yet: run "
                                 "`voxclone voices adapt NAME` (or use another converter).")
        with maybe_stage(timer, "analysis"):
            an = self.analyze(audio, settings.f0_method)  # type: ignore[arg-type]
        with maybe_stage(timer, "conversion"):
            src = source or self._stats([an])
            mapped = self.mapped_mcep(an, src, target, 1.0)
            learned = FrameMap.from_text(target["adaptation"]).predict(an.mcep, an.f0 > 0)
            if self.residual:
                learned = learned + mapped[:, 1:]
            mcep = self.pulled_mcep(an, mapped, learned, self.blend, settings.strength, an.speech)
        return self.synthesize(an, mcep, src, target, settings, timer)


register_converter("adapted", AdaptedConverter)

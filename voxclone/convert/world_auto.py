"""WORLD conversion whose strength is chosen per utterance by the speaker encoder (``world-auto``).

How far the WORLD map should move a base voice toward a speaker differs between voices and
between utterances: on the development set the full map helped some Kokoro voices by +0.13 and
cost others 0.08 against Kokoro's own speech. This converter analyses the utterance once, maps it
at a few strengths (0 being the unconverted speech), and keeps the one whose speaker embedding is
closest to the embedding of the speaker's enrolment clips. It never sees clips other than those.
:meth:`AutoWorldConverter.choose` also returns the winning fraction and
:meth:`AutoWorldConverter.convert_at` maps at a given one, so a pipeline can choose once per voice
(:mod:`voxclone.pipeline.strength`) and then pay one WORLD synthesis per utterance.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.audio.speaker import closest_to, speaker_encoder
from voxclone.audio.types import Audio
from voxclone.convert.base import ConvertSettings, Features, register_converter
from voxclone.convert.world import DEFAULT_DYNAMICS, WorldConfig, WorldConverter
from voxclone.timing import StageTimer, maybe_stage

STRENGTHS = (0.0, 0.5, 0.7, 0.85, 1.0)
"""Strengths tried, as fractions of the call's ``strength``; 0 keeps the source speech."""


class AutoWorldConverter(WorldConverter):
    """:class:`WorldConverter` trying :data:`STRENGTHS` per call and keeping the output the
    speaker encoder puts closest to the target's clips (``target["embedding"]``)."""

    name = "world-auto"

    def __init__(self, config: WorldConfig = WorldConfig(),
                 strengths: tuple[float, ...] = STRENGTHS, dynamics: bool = DEFAULT_DYNAMICS) -> None:
        super().__init__(config, dynamics)
        self.strengths = strengths
        self.version = f"{self.version}:auto-{'-'.join(str(s) for s in strengths)}"

    def features(self, clips: list[Audio]) -> Features:
        """WORLD's target statistics plus the speaker embedding of the clips (256 floats)."""
        out = super().features(clips)
        out["embedding"] = speaker_encoder().embed_many(clips).tolist()
        return out

    def convert(self, audio: Audio, target: Features, settings: ConvertSettings = ConvertSettings(),
                source: Features | None = None, timer: StageTimer | None = None) -> Audio:
        """``audio`` mapped toward the target at the strength whose output sounds most like it.

        ``timer`` collects ``analysis``, ``conversion``, ``synthesis`` and ``scoring``.
        """
        return self.choose(audio, target, settings, source, timer)[0]

    def choose(self, audio: Audio, target: Features, settings: ConvertSettings = ConvertSettings(),
               source: Features | None = None,
               timer: StageTimer | None = None) -> tuple[Audio, float]:
        """:meth:`convert`'s output and the fraction of :data:`STRENGTHS` that won."""
        outputs = self.candidates(audio, target, settings, source, timer)
        with maybe_stage(timer, "scoring"):
            goal = np.asarray(target["embedding"], dtype=np.float32)
            best, _ = closest_to(goal, enumerate(outputs), 0)
        return outputs[best], self.strengths[best]

    def candidates(self, audio: Audio, target: Features,
                   settings: ConvertSettings = ConvertSettings(), source: Features | None = None,
                   timer: StageTimer | None = None) -> list[Audio]:
        """The output at each of ``strengths``, in their order."""
        with maybe_stage(timer, "analysis"):
            an = self.analyze(audio, settings.f0_method)  # type: ignore[arg-type]
        with maybe_stage(timer, "conversion"):
            src = source or self._stats([an])
            full = self.mapped_mcep(an, src, target, settings.strength)
        outputs = []
        for fraction in self.strengths:
            if fraction == 0.0:
                outputs.append(resample(audio, self.config.sample_rate))
                continue
            mcep = an.mcep + fraction * (full - an.mcep)  # the map is linear in its strength
            call = replace(settings, strength=settings.strength * fraction)
            mcep = self.with_voice_dynamics(mcep, an, src, target, call.strength)
            outputs.append(self.synthesize(an, mcep, src, target, call, timer))
        return outputs

    def convert_at(self, audio: Audio, target: Features, fraction: float,
                   settings: ConvertSettings = ConvertSettings(), source: Features | None = None,
                   timer: StageTimer | None = None) -> Audio:
        """``audio`` mapped at ``fraction`` of ``settings.strength`` (one of :data:`STRENGTHS`,
        as :meth:`choose` returned it): the output :meth:`convert` gives when that fraction wins,
        at the cost of one WORLD synthesis and no speaker embedding."""
        if fraction == 0.0:
            return resample(audio, self.config.sample_rate)
        return WorldConverter.convert(self, audio, target,
                                      replace(settings, strength=settings.strength * fraction),
                                      source, timer)


register_converter("world-auto", AutoWorldConverter)

"""The ``openvoice-v2`` converter behind the ``Converter`` protocol (voice profiles, pipelines)."""

from __future__ import annotations

import os

import numpy as np

from voxclone.audio.dsp import resample, warmup_tone
from voxclone.audio.types import Audio
from voxclone.convert.base import ConvertSettings, Features
from voxclone.convert.openvoice.checkpoint import require_files
from voxclone.convert.openvoice.converter import OpenVoiceConverter
from voxclone.convert.openvoice.fetch import MODEL_NAME, model_dir
from voxclone.errors import InvalidSetting
from voxclone.timing import StageTimer, maybe_stage

BACKEND_ENV = "VOXCLONE_OPENVOICE_BACKEND"
DEFAULT_BACKEND = "onnxruntime"
FEATURES_VERSION = 1


class OpenVoiceEngine:
    """Tone-colour conversion with OpenVoice V2.

    features: ``{"tone": [gin floats]}`` from every clip's speech (silero-vad, ~10 s pieces,
    averaged). convert: source tone from ``source`` (e.g. the base TTS voice's) or, without it,
    from ``audio`` itself; ``strength`` moves the target tone from the source's (0) to the
    target's (1); ``tau`` is the posterior noise scale (0: deterministic), its noise drawn from a
    fixed seed so that the same input always gives the same output.
    ``keeps_source_pitch``: the output follows the source's pitch contour, so a pipeline shifts
    pitch in the base TTS rather than here.
    """

    name = MODEL_NAME
    keeps_source_pitch = True
    source_from_base_voice = True

    def __init__(self, converter: OpenVoiceConverter, tau: float = 0.3) -> None:
        self.model = converter
        self.tau = tau
        self.version = f"{MODEL_NAME}-{FEATURES_VERSION}:{converter.checkpoint_id}"

    @classmethod
    def from_settings(cls) -> "OpenVoiceEngine":
        """Load from ``VOXCLONE_HOME/models/openvoice-v2`` with the backend named by
        ``VOXCLONE_OPENVOICE_BACKEND``: onnxruntime (default), onnxruntime-int8 (int8
        convolutions, faster, PCC ≈ 0.999 to float32), openvino, openvino-bf16 (bfloat16, faster,
        PCC ≈ 0.9999) or torch. ModelNotFound when not fetched."""
        folder = model_dir()
        require_files(folder)
        backend = os.environ.get(BACKEND_ENV, DEFAULT_BACKEND)
        precision = "bf16" if backend == "openvino-bf16" else "f32"
        return cls(OpenVoiceConverter.from_pretrained(folder, backend=backend.removesuffix("-bf16"),
                                                      precision=precision))

    def warmup(self) -> None:
        """One short conversion so later calls pay no first-call costs."""
        tone = warmup_tone(1.0, self.model.sample_rate)
        g = self.model.extract_tone_color(tone, vad=False)
        self.model.convert(tone, g, g, tau=0.0)

    def features(self, clips: list[Audio]) -> Features:
        """``{"tone": [...]}``: the speaker's tone colour from all clips' speech together."""
        sr = clips[0].sample_rate if clips else self.model.sample_rate
        joined = Audio(np.concatenate([resample(c, sr).samples for c in clips]), sr)
        return {"tone": self.model.extract_tone_color(joined, vad=True).tolist()}

    def convert(self, audio: Audio, target: Features, settings: ConvertSettings = ConvertSettings(),
                source: Features | None = None, timer: StageTimer | None = None) -> Audio:
        """``audio`` in the target's voice at 22050 Hz (stages ``analysis`` and ``conversion``)."""
        if settings.pitch_shift != 0.0:
            raise InvalidSetting("openvoice-v2 keeps the source's pitch: shift the pitch of the "
                                 "source (or the base TTS's --pitch) instead of pitch_shift.")
        tgt = _tone(target, "target")
        with maybe_stage(timer, "analysis"):
            src = (_tone(source, "source") if source is not None
                   else self.model.extract_tone_color(audio, vad=False))
        with maybe_stage(timer, "conversion"):
            tgt = src + settings.strength * (tgt - src)
            return self.model.convert(audio, src, tgt, tau=self.tau, seed=0)


def _tone(features: Features, what: str) -> np.ndarray:
    if "tone" not in features:
        raise InvalidSetting(f"The {what} features hold no OpenVoice tone colour: rebuild the "
                             "voice profile with the openvoice-v2 converter.")
    return np.asarray(features["tone"], dtype=np.float32)


"""What a batch worker receives and does: the job spec, one task in, one outcome out.

A worker is built once per process (or Ray actor) from a :class:`JobSpec`: the pipeline
settings, the voice profile itself (so workers need no voice library, no VOXCLONE_HOME and no
shared file system) and the base voice chosen once by the driver. A task carries the item's text
or its input audio as bytes; the outcome carries the output as WAV bytes, or the reason it failed.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import soundfile as sf

from voxclone.audio.io import from_bytes
from voxclone.audio.metadata import metadata_tags
from voxclone.audio.types import Audio
from voxclone.errors import VoiceNotFound
from voxclone.pipeline.config import PipelineConfig
from voxclone.provenance.record import output_info, voice_id
from voxclone.tts.base import Style
from voxclone.voices.profile import VoiceProfile


@dataclass(frozen=True)
class JobSpec:
    """Everything that decides a job's outputs; shipped to every worker.

    mode: ``say`` (text → speech) or ``convert`` (speech → speech).
    voice: the voice's name (for messages); profile: its :class:`VoiceProfile` as a dict.
    pipeline: :class:`PipelineConfig` as a dict.
    lang, speed, pitch, energy, base_voice: say settings (base_voice chosen by the driver).
    pitch_shift: convert setting, semitones.
    style: the Kokoro style table (510, 1, 256) float32 as bytes, found by the driver; then
        ``base_voice`` is its id.
    seed: numpy/torch/random and the engines that sample (``say --seed``) are seeded per item
        from (seed, item id), so an item's output does not depend on which worker ran it or in
        which order.
    consent: the consent statement stored with the voice (carried into every output's metadata).
    """

    mode: str
    voice: str
    profile: dict[str, Any]
    pipeline: dict[str, Any] = field(default_factory=lambda: PipelineConfig().to_dict())
    lang: str = "en"
    speed: float = 1.0
    pitch: float = 0.0
    energy: float = 1.0
    base_voice: str | None = None
    pitch_shift: float = 0.0
    seed: int = 0
    style: bytes | None = None
    consent: str | None = None

    def fingerprint(self) -> str:
        """SHA-256 over the settings and the profile: equal for runs that give equal outputs."""
        data = asdict(self)
        data["style"] = hashlib.sha256(self.style).hexdigest() if self.style else None
        data["profile"] = {k: data["profile"][k] for k in ("clip_hashes", "converter",
                                                           "converter_version", "format_version")}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def describe(self) -> str:
        """One line naming the settings, for messages."""
        cfg = self.pipeline
        what = (f"tts={cfg['tts']} base={self.base_voice} lang={self.lang} speed={self.speed} "
                f"pitch={self.pitch} energy={self.energy}" if self.mode == "say"
                else f"pitch_shift={self.pitch_shift}")
        return f"mode={self.mode} voice={self.voice} converter={cfg['converter']} {what} seed={self.seed}"


@dataclass(frozen=True)
class Task:
    """One item to process: its text (say) or its input file's bytes and name (convert)."""

    id: str
    text: str | None = None
    data: bytes | None = None
    name: str = ""


@dataclass(frozen=True)
class Outcome:
    """What became of a task: WAV bytes and seconds of audio, or the reason it failed."""

    id: str
    wav: bytes | None
    audio_s: float = 0.0
    seconds: float = 0.0
    error: str | None = None


class _NoLibrary:
    """Stands in for the voice library inside workers: they get the profile, never a name."""

    def profile(self, name: str, converter: object) -> VoiceProfile:
        raise VoiceNotFound(f"Batch workers hold no voice library (asked for {name!r}).")


def item_seed(seed: int, item_id: str) -> int:
    """The seed of one item: depends on the job seed and the id only."""
    return (seed * 1_000_003 + zlib.crc32(item_id.encode())) % 2**32


def encode_wav(audio: Audio, tags: dict[str, str] | None = None) -> bytes:
    """``audio`` as a 16-bit PCM WAV file in memory, with text ``tags`` (WAV INFO)."""
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", audio.sample_rate, 1, "PCM_16", format="WAV") as f:
        for key, value in (tags or {}).items():
            setattr(f, key, value)
        f.write(np.clip(audio.samples, -1.0, 1.0))
    return buf.getvalue()


class ItemWorker:
    """Builds the engines and the profile once; :meth:`process` then handles any number of tasks."""

    def __init__(self, spec: JobSpec) -> None:
        from voxclone.pipeline import VoiceCloner, VoiceConversionPipeline

        self.spec = spec
        self.profile = VoiceProfile.from_dict(spec.profile)
        config = PipelineConfig.from_dict(spec.pipeline)
        library: Any = _NoLibrary()
        if spec.mode == "say":
            self.cloner = VoiceCloner(config, library=library)
            self.style = Style(spec.speed, spec.pitch, spec.energy)
            if spec.style:
                self.cloner.add_style(np.frombuffer(spec.style, np.float32).reshape(510, 1, 256))
        else:
            self.pipeline = VoiceConversionPipeline(config, library=library)

    def process(self, task: Task) -> Outcome:
        """Run one task; any error becomes a failed outcome with its reason, never an exception."""
        start = time.perf_counter()
        try:
            self._seed(task.id)
            audio = self._run(task)
            wav = encode_wav(audio, metadata_tags(self.info(task)))
        except Exception as exc:  # an item's failure must never stop the job
            return Outcome(task.id, None, 0.0, time.perf_counter() - start,
                           f"{type(exc).__name__}: {exc}")
        return Outcome(task.id, wav, audio.duration, time.perf_counter() - start)

    def info(self, task: Task) -> dict[str, Any]:
        """The metadata of one item's output: settings plus provenance."""
        spec, cfg = self.spec, self.spec.pipeline
        say = spec.mode == "say"
        settings = ({"lang": spec.lang, "speed": spec.speed, "pitch": spec.pitch, "energy": spec.energy,
                     "strength": cfg["strength"], "job_seed": spec.seed} if say
                    else {"pitch_shift": spec.pitch_shift, "strength": cfg["strength"],
                          "source": task.name, "job_seed": spec.seed})
        return output_info("speech" if say else "convert", task.text or "", spec.voice,
                           f"{cfg['tts'] if say else '-'}:{cfg['converter']}", settings,
                           voice_id(self.profile.clip_hashes), cfg.get("watermark", True),
                           item_seed(spec.seed, task.id), spec.consent, item=task.id,
                           **({"base_voice": spec.base_voice} if say else {}))

    def _run(self, task: Task) -> Audio:
        if self.spec.mode == "say":
            return self.cloner.say(task.text or "", self.profile, self.spec.lang, self.style,
                                   base_voice=self.spec.base_voice, seed=item_seed(self.spec.seed, task.id))
        audio = from_bytes(task.data or b"", task.name or "input.wav")
        return self.pipeline.convert(audio, self.profile, self.spec.pitch_shift)

    def _seed(self, item_id: str) -> None:
        seed = item_seed(self.spec.seed, item_id)
        random.seed(seed)
        np.random.seed(seed)
        torch = sys.modules.get("torch")  # seeded when an engine uses it; never imported for this
        if torch is not None:
            torch.manual_seed(seed)

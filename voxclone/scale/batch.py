"""``run_batch``: a manifest in, ``<id>.wav`` files out, locally or on Ray, resumable."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voxclone.config import Settings
from voxclone.convert.base import CONVERT_DEFAULT, SHORT_VOICE_CONVERTER
from voxclone.errors import BatchError, InvalidSetting
from voxclone.paths import blocking_file
from voxclone.pipeline import PipelineConfig, VoiceCloner, VoiceConversionPipeline
from voxclone.pipeline.basevoice import rank_base_voices
from voxclone.scale.job import Backend, BatchSummary, WorkerFactory, execute
from voxclone.scale.local import InProcessBackend, ProcessPoolBackend
from voxclone.scale.manifest import Mode, load_manifest
from voxclone.scale.ray_runner import RayBackend
from voxclone.scale.worker import ItemWorker, JobSpec
from voxclone.text.languages import normalize_language
from voxclone.tts.base import Style
from voxclone.voices.store import VoiceLibrary

VoiceArg = str | Sequence[str | os.PathLike]


@dataclass(frozen=True)
class BatchOptions:
    """Settings of a batch job (the same for every item).

    mode: ``say`` or ``convert`` (None: from the manifest). pipeline: engines and strength.
    lang, speed, pitch, energy, base_voice: as ``voxclone say`` (base voice: best-ranked when None).
    pitch_shift: semitones, as ``voxclone convert``. seed: per-item seeds derive from it.
    convert_default: convert items ignore ``pipeline.converter`` and take conversion's default,
    as ``voxclone convert`` without ``--converter`` does (knn; world for a voice with too little
    speech for knn), what the CLI asks for when no converter is named.
    """

    mode: Mode | None = None
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    lang: str = "en"
    speed: float = 1.0
    pitch: float = 0.0
    energy: float = 1.0
    base_voice: str | None = None
    pitch_shift: float = 0.0
    seed: int = 0
    convert_default: bool = False


def job_spec(voice: VoiceArg, mode: Mode, options: BatchOptions,
             settings: Settings | None = None) -> JobSpec:
    """Resolve the voice's profile and (say) the base voice once, in the driver."""
    settings = settings or Settings()
    library = VoiceLibrary(settings)
    name = voice if isinstance(voice, str) else "reference"
    consent = library.info(voice).consent if isinstance(voice, str) else None
    common: dict[str, Any] = dict(mode=mode, voice=name, pipeline=options.pipeline.to_dict(),
                                  seed=options.seed, consent=consent)
    if mode == "convert":
        config, fallback = options.pipeline, None
        if options.convert_default:
            config, fallback = replace(config, converter=CONVERT_DEFAULT), SHORT_VOICE_CONVERTER
        profile = VoiceConversionPipeline(config, library, settings, fallback=fallback).profile(voice)
        common["pipeline"] = replace(config, converter=profile.converter).to_dict()  # the one used
        return JobSpec(profile=profile.to_dict(), pitch_shift=options.pitch_shift, **common)
    Style(options.speed, options.pitch, options.energy)  # range checks before any work
    # a batch speaks many items with one style: the refined one (searched once, or cached), not
    # the start style a single interactive `say` begins with
    cloner = VoiceCloner(replace(options.pipeline, search_first=True), library, settings)
    lang = normalize_language(options.lang, cloner.tts.languages)
    profile = cloner.profile(voice)
    base, style = options.base_voice, None
    if base is None and options.pipeline.tts == "kokoro":
        # The style search runs once here (or comes from the cache); workers get the table.
        base, table = cloner.kokoro_style(voice, progress=True)
        style = table.tobytes()  # float32, as add_style keeps it
    elif base is None:
        base = rank_base_voices(cloner.tts, cloner.converter, profile, lang, settings.cache_dir,
                                options.pipeline.base_voice_pool)[0].voice
    return JobSpec(profile=profile.to_dict(), lang=lang, speed=options.speed, pitch=options.pitch,
                   energy=options.energy, base_voice=base, style=style, **common)


def make_backend(workers: int | None = None, ray: str | None = None,
                 ray_init: dict[str, Any] | None = None) -> Backend:
    """In this process (1 worker, the default), a local process pool (N), or Ray (``ray`` = an
    address; ``workers`` None: one actor per CPU of the cluster)."""
    if workers is not None and workers < 1:
        raise InvalidSetting(f"workers={workers}: use 1 or more.")
    if ray:
        return RayBackend(ray, workers, ray_init)
    return InProcessBackend() if (workers or 1) == 1 else ProcessPoolBackend(workers or 1)


def run_batch(source: str | Path, out_dir: str | Path, voice: VoiceArg,
              options: BatchOptions = BatchOptions(), workers: int | None = None,
              ray: str | None = None,
              progress: bool = False, factory: WorkerFactory = ItemWorker,
              ray_init: dict[str, Any] | None = None, settings: Settings | None = None,
              ) -> BatchSummary:
    """Make ``<out_dir>/<id>.wav`` for every item of ``source`` not done by an earlier run.

    ``source``: a CSV/TSV manifest (``id,text`` or ``id,path``) or a folder of audio files.
    ``workers``: processes (local, default 1: this process) or actors (Ray, default: one per
    CPU of the cluster).
    ``ray``: None (local), ``local``, ``auto`` or ``ray://host:10001``. ``factory`` builds each
    worker (tests pass ones that crash). Failing items are recorded and the job goes on.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BatchError(f"--out {out} is a file: name a folder for the outputs.")
    blocker = blocking_file(out)
    if blocker is not None:
        raise BatchError(f"--out {out} cannot be made: {blocker} is a file, not a folder.")
    mode, items = load_manifest(source, options.mode)
    spec = job_spec(voice, mode, options, settings)
    backend = make_backend(workers, ray, ray_init)
    return execute(items, spec, out, backend, factory, progress)

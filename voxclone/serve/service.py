"""The work behind the API and the UI: speech, conversion, voices, history, settings.

Synthesis runs on a pool of worker threads (:meth:`Service.submit`), so the event loop keeps
answering while generations run; at most ``max_pending`` generations wait or run at once.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from voxclone.asr.types import Word
from voxclone.audio.io import SUPPORTED_SUFFIXES, save
from voxclone.audio.metadata import metadata_tags, read_metadata
from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.convert.base import CONVERT_DEFAULT, SHORT_VOICE_CONVERTER, get_converter
from voxclone.errors import (InvalidSetting, InvalidVoiceName, LimitExceeded, ServerBusy,
                             UploadTooLarge, VoiceNotFound)
from voxclone.pipeline import PipelineConfig, VoiceCloner, VoiceConversionPipeline
from voxclone.pipeline.cloner import PROFILE_CONVERTER, converter_used
from voxclone.pipeline.plain_voices import OPENAI_VOICES, PlainVoice, base_voice_ids, find_plain_voice
from voxclone.serve.config import AUTO, RuntimeSettings, ServeConfig
from voxclone.serve.history import GenerationRecord, History, utc_now
from voxclone.provenance.credentials import sign_if_supported
from voxclone.provenance.record import output_info, voice_id
from voxclone.serve.jobs import (EngineChoice, SpeechJob, check_format,
                                 check_watermark, choose_engine, engine_halves, parse_engine)
from voxclone.serve.warmup import Warmup
from voxclone.text.languages import LANGUAGE_NAMES, normalize_language
from voxclone.timing import StageTimer
from voxclone.voices import VoiceInfo, VoiceLibrary, validate_name

T = TypeVar("T")


@dataclass(frozen=True)
class Generation:
    """A finished generation: its history record, the audio and the file it was saved to;
    outputs: (base voice, score or None, path, audio) of every candidate, best first; words:
    with timestamps, every word with its start/end (seconds of ``audio``), and what the times
    come from (timing)."""

    record: GenerationRecord
    audio: Audio
    path: Path
    outputs: list[tuple[str, float | None, Path, Audio]] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    timing: str = ""


class Service:
    """Shared state of one server: voice library, history, worker pool and runtime settings."""

    def __init__(self, config: ServeConfig = ServeConfig(), settings: Settings | None = None) -> None:
        self.config = config
        self.settings = settings or Settings()
        self.library = VoiceLibrary(self.settings)
        self.root = self.settings.home / "serve"
        self.output_dir = self.root / "outputs"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.history = History(self.root / "history.sqlite")
        self._settings_path = self.root / "settings.json"
        self._runtime = self._load_runtime()
        self._pool = ThreadPoolExecutor(config.workers, thread_name_prefix="voxclone-synth")
        self._lock = threading.Lock()
        self._pending = 0
        self._local = threading.local()
        self.warmup = Warmup(self)
        self.prepare_voices = True
        """Refine a new voice's Kokoro style in the background when it is added (Kokoro only)."""

    # --- worker pool -------------------------------------------------------------------------
    async def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the worker pool; ServerBusy when ``max_pending`` jobs are already in."""
        with self.reserve():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def run_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the worker pool and wait for it (for callers outside the event loop)."""
        with self.reserve():
            return self._pool.submit(fn, *args, **kwargs).result()

    async def next_chunk(self, chunks: Iterator[Audio]) -> Audio | None:
        """The next item of a generator, computed on the worker pool (None at its end)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, next, chunks, None)

    def reserve(self) -> "_Slot":
        """A context manager holding one of the ``max_pending`` slots."""
        return _Slot(self)

    @property
    def pending(self) -> int:
        """Generations queued or running now."""
        return self._pending

    def shutdown(self) -> None:
        """Stop the worker pool (waits for running jobs)."""
        self._pool.shutdown(wait=True)

    def engines_by_language(self) -> dict[str, str]:
        """The ``tts:converter`` pair a request of each language gets from the server's setting."""
        return {lang: ":".join(parse_engine(None, self.runtime, lang)) for lang in LANGUAGE_NAMES}

    # --- runtime settings --------------------------------------------------------------------
    @property
    def runtime(self) -> RuntimeSettings:
        """The current output sample rate, volume and default engines."""
        return self._runtime

    def update_runtime(self, **changes: Any) -> RuntimeSettings:
        """Change runtime settings (validated, saved for the next start)."""
        new = replace(self._runtime, **changes)
        parse_engine(f"{new.tts}:{new.converter}", new)
        tmp = self._settings_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(new.to_dict()))
        os.replace(tmp, self._settings_path)
        self._runtime = new
        return new

    def _load_runtime(self) -> RuntimeSettings:
        if self._settings_path.is_file():
            return RuntimeSettings.from_dict(json.loads(self._settings_path.read_text()))
        return RuntimeSettings()

    # --- speech ------------------------------------------------------------------------------
    def resolve(self, job: SpeechJob) -> tuple[EngineChoice, PlainVoice | None]:
        """The engine pair ``job`` runs and, when its voice is no library voice, the base voice it
        names (an OpenAI name or a base-voice id), spoken as itself (converter none). A library
        voice of that name wins. Raises VoiceNotFound naming what is accepted."""
        plain = self._plain_voice(job)
        choice = job.check(self.config, self.runtime, library_voice=plain is None)
        if plain is None:
            return choice, None
        if job.candidates != 1:
            raise InvalidSetting(f"'{job.voice}' is the base voice {plain.describe()}, spoken as "
                                 "itself: candidates apply to cloning; use candidates=1.")
        return EngineChoice(plain.tts, "none", "base voice", "base voice"), plain

    def speak(self, job: SpeechJob) -> Generation:
        """Synthesize ``job``, save every candidate with its settings embedded, record history."""
        choice, plain = self.resolve(job)
        tts, conv = choice.pair
        rt = self.runtime
        start = time.perf_counter()
        cloner = self._cloner(tts, conv, rt, job.watermark, choice.converter_measured)
        if plain is not None:
            result = cloner.speak_plain(job.text, job.lang, job.style, plain.voice, job.split,
                                        timestamps=job.timestamps, seed=job.seed)
        else:
            result = cloner.synthesize(job.text, job.voice, job.lang, job.style,
                                       candidates=job.candidates, split=job.split, seed=job.seed,
                                       timestamps=job.timestamps)
        total_ms = 1000.0 * (time.perf_counter() - start)
        info = self._info("speech", job.text, job.voice, tts, conv,
                          {**job.settings(), **_used(rt, tts, conv, result.converter),
                           **_chosen(choice, plain)},
                          job.watermark, job.seed, library_voice=plain is None)
        stem, ext = _new_stem(), ("wav" if job.format == "pcm" else job.format)
        path = self._save(result.audio, self.output_dir / f"{stem}.{ext}",
                          {**info, "base_voice": result.base_voice})
        outputs: list[tuple[str, float | None, Path, Audio]] = [(result.base_voice, None, path, result.audio)]
        if result.candidates:
            outputs = []
            order = sorted(range(len(result.candidates)), key=lambda i: -result.candidates[i][1])
            for rank, i in enumerate(order):
                voice_id, score = result.candidates[i]
                cand = path if rank == 0 else self._save(
                    result.outputs[i], self.output_dir / f"{stem}-c{rank + 1}.{ext}",
                    {**info, "base_voice": voice_id, "score": score})
                outputs.append((voice_id, round(score, 4), cand, result.outputs[i]))
        timings = {"total_ms": round(total_ms, 1), "rtf": round(result.rtf, 4),
                   "stages_ms": {k: round(v, 1) for k, v in result.timings_ms.items()}}
        cands = [{"base_voice": v, "score": s, "path": str(p)} for v, s, p, _ in outputs]
        record = self.history.add(GenerationRecord(
            "speech", job.text, job.voice, f"{tts}:{conv}", info["settings"], timings,
            round(result.audio.duration, 3), str(path), cands if result.candidates else [],
            created=info["created"]))
        return Generation(record, result.audio, path, outputs, result.words, result.timing)

    def stream(self, job: SpeechJob) -> Iterator[Any]:
        """Yield ``job``'s audio one sentence (or ``split`` piece) at a time — a plain Soprano
        voice below the sentence — (with timestamps, a
        :class:`~voxclone.pipeline.cloner.SpeechChunk` with its words, one per piece); when the
        stream ends the whole output is saved (wav, settings embedded) and recorded in history."""
        if job.candidates != 1:
            raise LimitExceeded("Streaming speaks with one base voice: use candidates=1.")
        choice, plain = self.resolve(job)
        tts, conv = choice.pair
        rt = self.runtime
        start = time.perf_counter()
        chunks: list[Audio] = []
        cloner = self._cloner(tts, conv, rt, job.watermark, choice.converter_measured)
        if plain is not None:
            speak = cloner.stream_plain_captioned if job.timestamps else cloner.stream_plain
            pieces = speak(job.text, job.lang, job.style, plain.voice, job.split, seed=job.seed)
        else:
            speak = cloner.say_stream_captioned if job.timestamps else cloner.say_stream
            pieces = speak(job.text, job.voice, job.lang, job.style, split=job.split, seed=job.seed)
        for chunk in pieces:
            chunks.append(chunk.audio if job.timestamps else chunk)
            yield chunk
        audio = Audio.concat(chunks)
        total_ms = 1000.0 * (time.perf_counter() - start)
        settings = {**job.settings(), **_used(rt, tts, conv, cloner.spoke_with),
                    **_chosen(choice, plain), "stream": True}
        info = self._info("speech", job.text, job.voice, tts, conv, settings, job.watermark, job.seed,
                          library_voice=plain is None)
        path = self._save(audio, self.output_dir / f"{_new_stem()}.wav", info)
        timings = {"total_ms": round(total_ms, 1), "rtf": round(total_ms / 1000.0 / audio.duration, 4)}
        self.history.add(GenerationRecord("speech", job.text, job.voice, f"{tts}:{conv}", settings,
                                          timings, round(audio.duration, 3), str(path),
                                          created=info["created"]))

    def _plain_voice(self, job: SpeechJob) -> PlainVoice | None:
        """None for a library voice, else the base voice ``job.voice`` names."""
        valid = _valid_name(job.voice)
        if valid and self.library.exists(job.voice):
            return None
        lang = normalize_language(job.lang, tuple(LANGUAGE_NAMES))
        tts, conv = engine_halves(job.engine)
        found = find_plain_voice(job.voice, lang, None if tts in ("", AUTO) else tts)
        if found is None:
            if not valid:
                validate_name(job.voice)  # InvalidVoiceName, saying what a name may hold
            raise VoiceNotFound(self._unknown_voice(job.voice, lang))
        if conv not in ("", AUTO, "none"):
            raise InvalidSetting(f"'{job.voice}' is no library voice but the base voice "
                                 f"{found.describe()}, spoken as itself: leave the converter out "
                                 f"(or use none), or add a library voice '{job.voice}' to clone.")
        return found

    def _unknown_voice(self, name: str, lang: str) -> str:
        """What to use instead of an unknown voice name."""
        library = [v.name for v in self.library.list()]
        shown = ", ".join(library[:8]) + (", ..." if len(library) > 8 else "") or "none yet"
        ids = "; ".join(f"{engine}: {', '.join(v[:3])}{', ...' if len(v) > 3 else ''}"
                        for engine, v in base_voice_ids(lang).items())
        return (f"No voice '{name}': use a library voice ({shown}; GET /v1/voices, add one with "
                f"POST /v1/voices), one of OpenAI's names ({', '.join(OPENAI_VOICES)}), or a base "
                f"voice id for '{lang}' ({ids}; GET /v1/base-voices lists them all).")

    # --- conversion --------------------------------------------------------------------------
    def convert(self, source: Audio, voice: str, pitch_shift: float = 0.0, strength: float = 1.0,
                engine: str | None = None, fmt: str = "wav", source_name: str = "upload",
                watermark: bool = True, timestamps: bool = False,
                lang: str | None = None) -> Generation:
        """Convert ``source`` speech into ``voice``; saved and recorded like speech.
        ``timestamps``: also the words heard in the source (``lang``, default detected), whose
        times the conversion keeps."""
        validate_name(voice)
        check_format(fmt)
        check_watermark(watermark, self.config)
        if lang is not None:
            lang = normalize_language(lang, tuple(LANGUAGE_NAMES))
        rt = self.runtime
        asked = engine_halves(engine)[1]  # (its TTS half, if any, is not used)
        # "auto", asked for or set, is conversion's measured default, not the say default's converter
        conv = (asked if asked not in ("", AUTO)
                else CONVERT_DEFAULT if AUTO in (asked, rt.converter) else rt.converter)
        # as `voxclone convert`: a converter the request names is used or refused, never replaced
        named = asked not in ("", AUTO)
        fallback = SHORT_VOICE_CONVERTER if conv == CONVERT_DEFAULT and not named else None
        timer = StageTimer()
        start = time.perf_counter()
        pipeline = self._converter(conv, rt, watermark, fallback)
        profile = pipeline.profile(voice)
        conv = profile.converter  # the fallback's, for a voice too short for the default
        out = pipeline.convert(source, profile, pitch_shift, strength, timer)
        total_ms = 1000.0 * (time.perf_counter() - start)
        settings = {"pitch_shift": pitch_shift, "strength": strength, "format": fmt,
                    "source": Path(source_name).name, **_used(rt, None, conv)}
        info = self._info("convert", "", voice, "-", conv, settings, watermark)
        path = self._save(out, self.output_dir / f"{_new_stem()}.{'wav' if fmt == 'pcm' else fmt}", info)
        timings = {"total_ms": round(total_ms, 1), "rtf": round(total_ms / 1000.0 / source.duration, 4),
                   "stages_ms": {k: round(v, 1) for k, v in timer.ms.items()}}
        record = self.history.add(GenerationRecord("convert", "", voice, f"-:{conv}", settings, timings,
                                                   round(out.duration, 3), str(path),
                                                   created=info["created"]))
        if not timestamps:
            return Generation(record, out, path, [("-", None, path, out)])
        from voxclone.pipeline.captions import speech_words

        heard = speech_words(source, lang)
        words = [replace(w, start=min(w.start, out.duration), end=min(w.end, out.duration))
                 for w in heard.words]
        return Generation(record, out, path, [("-", None, path, out)], words,
                          f"{heard.model} (the source speech)")

    # --- voices ------------------------------------------------------------------------------
    def add_voice(self, name: str, files: list[tuple[str, bytes]], replace: bool = False,
                  consent: str | None = None) -> VoiceInfo:
        """Add voice ``name`` from uploaded ``(file name, content)`` pairs, within the limits."""
        validate_name(name)
        if len(files) > self.config.max_clips:
            raise LimitExceeded(f"{len(files)} files uploaded; a voice takes at most "
                                f"{self.config.max_clips}. Keep the clips with the cleanest speech.")
        with tempfile.TemporaryDirectory(prefix="upload-", dir=self.root) as tmp:
            paths = []
            for i, (filename, data) in enumerate(files):
                self.check_upload_size(len(data), filename)
                path = Path(tmp) / str(i) / _safe_filename(filename)
                path.parent.mkdir()
                path.write_bytes(data)
                paths.append(path)
            info = self.library.add(name, paths, replace=replace, consent=consent)
        if self.prepare_voices:  # a Kokoro voice is refined at once, beside the requests
            rt = self.runtime
            choice = choose_engine(None, rt)
            cloner = self._cloner(*choice.pair, rt, staged=choice.converter_measured)
            cloner.prepare(info.name, background=True)
        return info

    def import_voice(self, archive: str | os.PathLike, name: str | None = None) -> VoiceInfo:
        """Add a voice from a ``voxclone voices export`` zip."""
        return self.library.import_(archive, name=name or None)

    def voice_stats(self, name: str) -> dict[str, Any]:
        """Clips plus profile statistics of a voice (builds the profile the first time)."""
        info = self.library.info(name).to_dict()
        prof = self.library.profile(name, get_converter(PROFILE_CONVERTER))
        info["profile"] = {"f0_mean_hz": round(math.exp(prof.lf0_mean), 1),
                           "lf0_std": round(prof.lf0_std, 3),
                           "speech_seconds": round(prof.speech_seconds, 2),
                           "converter": f"{prof.converter} {prof.converter_version}",
                           "embedding_dim": len(prof.embedding)}
        return info

    def adapt_voice(self, name: str, lang: str = "en", tts: str = "kokoro") -> dict[str, Any]:
        """Learn voice ``name``'s frame map for ``tts`` (the ``adapted`` converter; cached, about
        50 s on 2 cores the first time); what was used. For Kokoro, the map of the refined style:
        a voice not refined yet is refined first (the style search, about 90 s more)."""
        cloner = self._cloner(tts, "adapted", self.runtime, staged=tts == "kokoro")
        if tts == "kokoro":
            cloner.prepare(name).result()
        return cloner.adapt(name, lang)

    def check_upload_size(self, size: int, filename: str = "upload") -> None:
        """UploadTooLarge when one uploaded file is over ``max_upload_bytes``."""
        if size > self.config.max_upload_bytes:
            raise UploadTooLarge(f"'{Path(filename).name}' is {size / 2**20:.1f} MiB; this server "
                                 f"takes files up to {self.config.max_upload_bytes / 2**20:.0f} MiB. "
                                 "Trim or compress it.")

    # --- provenance --------------------------------------------------------------------------
    def detect(self, data: bytes, name: str = "upload.wav") -> dict[str, Any]:
        """Watermark detection on uploaded audio bytes (AudioError when they do not decode)."""
        from voxclone.audio.io import from_bytes
        from voxclone.provenance.watermark import detect

        return detect(from_bytes(data, name)).to_dict()

    # --- files -------------------------------------------------------------------------------
    @staticmethod
    def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
        """The settings stored in an output file (see :func:`voxclone.audio.metadata.read_metadata`)."""
        return read_metadata(path)

    # --- internals ---------------------------------------------------------------------------
    def _info(self, kind: str, text: str, voice: str, tts: str, conv: str,
              settings: dict[str, Any], watermark: bool = True,
              seed: int | None = None, library_voice: bool = True) -> dict[str, Any]:
        """The metadata of one output: its settings plus provenance (voice id, consent, ...);
        a base voice (``library_voice`` false) has no clips and no consent."""
        voice_info = self.library.info(voice) if library_voice else None
        clips_id = voice_id(c.sha256 for c in voice_info.clips) if voice_info else ""
        return {**output_info(kind, text, voice, f"{tts}:{conv}", settings, clips_id, watermark,
                              seed, voice_info.consent if voice_info else None),
                "created": utc_now()}

    def _save(self, audio: Audio, path: Path, info: dict[str, Any]) -> Path:
        """Write an output with its metadata, then sign its content credentials."""
        save(audio, path, metadata_tags(info))
        sign_if_supported(path, info)
        return path

    def _cloner(self, tts: str, conv: str, rt: RuntimeSettings, watermark: bool = True,
                staged: bool = False) -> VoiceCloner:
        """One cloner per worker thread and configuration (``staged``: the converter is the
        measured default, whose map comes with the refined style)."""
        key = ("say", tts, conv, rt.output_sample_rate, rt.volume_db, watermark, staged)
        cache = self._local.__dict__.setdefault("pipelines", {})
        if key not in cache:
            config = PipelineConfig(tts=tts, converter=conv, output_sample_rate=rt.output_sample_rate,
                                    loudness_db=rt.volume_db, watermark=watermark,
                                    staged_adaptation=staged)
            cache[key] = VoiceCloner(config, self.library, self.settings)
        return cache[key]

    def _converter(self, conv: str, rt: RuntimeSettings, watermark: bool = True,
                   fallback: str | None = None) -> VoiceConversionPipeline:
        """One conversion pipeline per worker thread and configuration (``fallback``: the
        converter of voices too short for ``conv``; None: they get the error)."""
        key = ("convert", conv, fallback, rt.output_sample_rate, watermark)
        cache = self._local.__dict__.setdefault("pipelines", {})
        if key not in cache:
            config = PipelineConfig(converter=conv, output_sample_rate=rt.output_sample_rate,
                                    watermark=watermark)
            cache[key] = VoiceConversionPipeline(config, self.library, self.settings, fallback=fallback)
        return cache[key]


class _Slot:
    def __init__(self, service: Service) -> None:
        self.service = service

    def __enter__(self) -> None:
        with self.service._lock:
            if self.service._pending >= self.service.config.max_pending:
                raise ServerBusy(f"{self.service._pending} generations are already queued or running "
                                 "(the server's limit): retry in a few seconds.")
            self.service._pending += 1

    def __exit__(self, *exc: object) -> None:
        with self.service._lock:
            self.service._pending -= 1


def _used(rt: RuntimeSettings, tts: str | None, conv: str, spoke: str = "") -> dict[str, Any]:
    """The output settings and engines a generation actually used (``tts`` None: a conversion,
    which keeps the source's level; ``spoke``: the converter that spoke, where it was not
    ``conv``: ``adapted`` before the voice has its map)."""
    used: dict[str, Any] = {"output_sample_rate": rt.output_sample_rate, "converter": conv,
                            **converter_used(conv, spoke)}
    return used if tts is None else {**used, "tts": tts, "volume_db": rt.volume_db}


def _chosen(choice: EngineChoice, plain: PlainVoice | None) -> dict[str, Any]:
    """Where the engine pair came from and, for a base voice, which one (output settings)."""
    extra: dict[str, Any] = {"engine_choice": choice.source}
    if plain is not None:
        extra["plain_voice"] = plain.describe()
    return extra


def _valid_name(name: str) -> bool:
    try:
        validate_name(name)
    except InvalidVoiceName:
        return False
    return True


def _safe_filename(filename: str) -> str:
    """An uploaded file's base name with odd characters replaced; audio suffix kept (else .wav)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(filename).stem)[:64].strip(".") or "upload"
    suffix = Path(filename).suffix.lower()
    return stem + (suffix if suffix in SUPPORTED_SUFFIXES else ".wav")


def _new_stem() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"

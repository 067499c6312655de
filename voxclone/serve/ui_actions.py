"""What the web UI's buttons do: plain functions over :class:`Service`, returning display values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voxclone.errors import VoxcloneError
from voxclone.serve.config import AUTO
from voxclone.serve.jobs import PRESETS, SpeechJob
from voxclone.serve.plots import write_audio_plot
from voxclone.serve.service import Generation, Service

AUTO_LABEL = "auto (measured per language)"
"""The engine menu's entry for the server's default: each language's measured pair."""
HISTORY_COLUMNS = ["id", "created", "kind", "voice", "engine", "text", "duration_s", "output"]
VOICE_COLUMNS = ["name", "clips", "speech_s", "created"]


def engine_label(engine: str) -> str:
    """The engine menu's entry for an engine setting ("auto" or "tts:converter")."""
    return AUTO_LABEL if engine == AUTO else engine


def engine_setting(label: str) -> tuple[str, str]:
    """(tts, converter) of an engine menu entry."""
    if label in (AUTO_LABEL, AUTO, ""):
        return AUTO, AUTO
    tts, _, conv = label.partition(":")
    return tts, conv


def delimiter(text: str | None) -> str | None:
    """The line delimiter typed in the UI (``\\n`` and ``\\t`` as escapes; empty: sentences)."""
    if not text:
        return None
    return text.replace("\\n", "\n").replace("\\t", "\t")


def speech_job(text: str, split: str | None, voice: str | None, lang: str, engine: str,
               candidates: float, seed: float | None, speed: float, pitch: float, energy: float,
               fmt: str, captions: bool = False) -> SpeechJob:
    """The job the Generate form describes (seed below 0 or empty: none)."""
    seed_value = None if seed is None or seed < 0 else int(seed)
    engine = AUTO if engine == AUTO_LABEL else engine
    return SpeechJob(text or "", voice or "", lang, engine or None, float(speed), float(pitch),
                     float(energy), seed_value, int(candidates), delimiter(split), fmt,
                     timestamps=bool(captions))


def generate(service: Service, job: SpeechJob) -> tuple[Generation, Path, str]:
    """Run ``job`` on the worker pool; the generation, its plot and a one-line summary."""
    gen = service.run_blocking(service.speak, job)
    plot = write_audio_plot(gen.audio, gen.path.with_suffix(".png"), job.text[:80])
    t = gen.record.timings
    summary = (f"Generated #{gen.record.id}: {gen.audio.duration:.1f} s, base voice "
               f"{gen.outputs[0][0]}, engine {gen.record.engine} "
               f"({gen.record.settings.get('engine_choice', 'request')}), {t['total_ms']:.0f} ms "
               f"(RTF {t['rtf']:.2f}).")
    return gen, plot, summary


def captions(gen: Generation, job: SpeechJob) -> tuple[str, list[Path]]:
    """With timestamps: the WebVTT captions shown under the audio, and the .vtt/.srt/.json
    files written beside the output; nothing without."""
    from voxclone.pipeline.captions import caption_text, write_captions

    if not job.timestamps:
        return "", []
    files = [write_captions(gen.words, gen.path.with_suffix(s), job.text, job.lang,
                            gen.audio.duration, gen.timing) for s in (".vtt", ".srt", ".json")]
    cues = caption_text(gen.words, "captions.vtt").removeprefix("WEBVTT\n\n")
    return f"NOTE times from {gen.timing}\n\n{cues}", files


def candidate_label(rank: int, voice: str, score: float | None) -> str:
    """Label of one candidate's player."""
    best = " (kept)" if rank == 0 else ""
    return f"candidate {rank + 1}: {voice}" + (f", similarity {score:.3f}" if score is not None else "") + best


def preset_candidates(preset: str) -> int:
    """How many candidates a preset asks for."""
    return int(PRESETS[preset]["candidates"])


def voice_rows(service: Service) -> list[list[Any]]:
    """The voices table."""
    return [[v.name, len(v.clips), round(v.speech_seconds, 1), v.created] for v in service.library.list()]


def voice_names(service: Service) -> list[str]:
    """Names of every voice."""
    return [v.name for v in service.library.list()]


def add_voice(service: Service, name: str, files: list[str] | None, mic: str | None,
              consent: str | None = None) -> str:
    """Add a voice from uploaded files and/or a microphone recording (with the speaker's consent
    statement, when given); a status line."""
    paths = [Path(p) for p in (files or [])] + ([Path(mic)] if mic else [])
    if not paths:
        raise VoxcloneError("Upload one or more recordings or record one with the microphone first.")
    uploads = [(p.name, p.read_bytes()) for p in paths]
    info = service.run_blocking(service.add_voice, (name or "").strip(), uploads, False, consent)
    note = "" if info.consent else " No consent statement was given."
    return (f"Added voice '{info.name}': {len(info.clips)} clip(s), {info.speech_seconds:.1f} s of "
            f"speech.{note}")


def history_rows(service: Service, limit: int = 100) -> list[list[Any]]:
    """The history table, newest first."""
    return [[r.id, r.created, r.kind, r.voice, r.engine, r.text[:60], r.duration_s, Path(r.output_path).name]
            for r in service.history.list(limit)]


def history_entry(service: Service, record_id: float | None) -> tuple[str, dict[str, Any]]:
    """The output file of a history entry and the settings read back from that file."""
    record = service.history.get(int(record_id or 0))
    if record is None:
        raise VoxcloneError(f"No history entry #{record_id}: pick an id from the table.")
    path = Path(record.output_path)
    if not path.is_file():
        raise VoxcloneError(f"The output file of entry #{record.id} is gone: {path}.")
    return str(path), {"id": record.id, "file": str(path), **readable_metadata(service, path)}


def readable_metadata(service: Service, path: str | Path) -> dict[str, Any]:
    """The settings stored in a file, with the raw comment tag left out when it was parsed."""
    meta = service.read_metadata(path)
    if meta["settings"] is not None:
        meta["tags"] = {k: v for k, v in meta["tags"].items() if k != "comment"}
    return meta


def copied_settings(service: Service, record_id: float | None) -> dict[str, Any]:
    """The Generate form's values that reproduce a history entry."""
    record = service.history.get(int(record_id or 0))
    if record is None or record.kind != "speech":
        raise VoxcloneError(f"Entry #{record_id} is not a speech generation: pick one of kind 'speech'.")
    s = record.settings
    split = (s.get("split") or "").replace("\n", "\\n").replace("\t", "\\t")
    return {"text": record.text, "split": split, "voice": record.voice, "lang": s.get("lang", "en"),
            "engine": record.engine, "candidates": s.get("candidates", 1),
            "seed": -1 if s.get("seed") is None else s["seed"], "speed": s.get("speed", 1.0),
            "pitch": s.get("pitch", 0.0), "energy": s.get("energy", 1.0),
            "format": s.get("format", "wav") if s.get("format") != "pcm" else "wav",
            "captions": bool(s.get("timestamps", False))}

"""`voxclone eval`: clone every speaker of a dataset and score the outputs with the floors and ceiling."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from voxclone.audio.io import load
from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.convert.base import get_converter
from voxclone.eval.dataset import (SpeakerSplit, Utterance, find_sets, read_manifest,
                                   split_speakers)
from voxclone.eval.scoring import Embeddings, Scorer
from voxclone.pipeline import PipelineConfig, VoiceCloner, VoiceConversionPipeline
from voxclone.tts.base import get_tts
from voxclone.voices.profile import VoiceProfile, build_profile
from voxclone.voices.store import VoiceLibrary

log = logging.getLogger(__name__)
FLOOR_TTS = "raw-base-tts"
FLOOR_VC = "unconverted-source"
CEILING = "real-speaker"


@dataclass(frozen=True)
class EvalConfig:
    """Settings of one evaluation run.

    pipelines: cloning pipelines as ``tts:converter`` (e.g. ``espeak:world``, ``kokoro:none``).
    converters: voice-conversion converters to score (``world``); empty to skip conversion.
    ref_seconds: enrolment audio per speaker; texts: held-out transcripts spoken per speaker;
    vc_sources: other speakers' clips converted per target; limit: at most this many speakers per
    set (0: all); seed: split seed; dnsmos: score DNSMOS (slower); save_audio: keep every output.
    langs: further languages each speaker's clone speaks (one transcript of that language from the
    dataset's manifests); their rows are named ``method@lang``, scored on similarity to the
    speaker's held-out clips and on WER (CER for zh/ja/ko) by the multilingual Whisper.
    effort, search_steps: Kokoro style search (see PipelineConfig); a fixed step count keeps
    results independent of the machine's load. asr: the recogniser that scores intelligibility
    (``whisper``, ``whisper-base`` or ``pocketsphinx``, English only).
    """

    pipelines: tuple[str, ...] = ("espeak:world",)
    converters: tuple[str, ...] = ("world",)
    ref_seconds: float = 20.0
    texts: int = 2
    vc_sources: int = 2
    limit: int = 0
    seed: int = 0
    candidates: int = 1
    dnsmos: bool = True
    save_audio: bool = False
    langs: tuple[str, ...] = ()
    effort: str | float = "standard"
    search_steps: int | None = None
    asr: str = "whisper"


@dataclass
class EvalRun:
    """All scored items plus the notes (speakers skipped, ...) of a run."""

    config: EvalConfig
    items: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_eval(dataset: Path, config: EvalConfig = EvalConfig(), out_dir: Path | None = None,
             settings: Settings | None = None, progress: bool = True) -> EvalRun:
    """Evaluate every set under ``dataset``; outputs go to ``out_dir`` when given."""
    start = time.perf_counter()
    run = EvalRun(config)
    splits: list[SpeakerSplit] = []
    sets = find_sets(Path(dataset))
    for set_dir in sets:
        found, skipped = split_speakers(set_dir, config.ref_seconds, config.texts, config.seed)
        splits += found[: config.limit] if config.limit else found
        run.notes += skipped
    lang_texts = texts_by_language(sets, config.langs)
    run.notes += [f"no transcript in {lang} found: skipped" for lang in config.langs
                  if lang not in lang_texts]
    scorer = Scorer(dnsmos=config.dnsmos, asr=config.asr)
    evaluator = _Evaluator(config, settings or Settings(), scorer, out_dir, lang_texts)
    bar = tqdm(total=len(splits), desc="eval", unit="speaker", disable=not progress or None)
    for split in splits:
        others = [s for s in splits if s.set_name == split.set_name and s.speaker != split.speaker]
        run.items += list(evaluator.speaker(split, others))
        bar.update()
    bar.close()
    run.seconds = time.perf_counter() - start
    return run


class _Evaluator:
    def __init__(self, config: EvalConfig, settings: Settings, scorer: Scorer, out_dir: Path | None,
                 lang_texts: dict[str, str] | None = None):
        self.config, self.settings, self.scorer, self.out_dir = config, settings, scorer, out_dir
        self.lang_texts = lang_texts or {}
        self.converter = get_converter("world")
        self.base = get_tts("espeak")
        self.library = VoiceLibrary(settings)
        self.cloners = {p: VoiceCloner(_pipeline_config(p, config), self.library, settings)
                        for p in config.pipelines}
        self.vcs = {c: VoiceConversionPipeline(PipelineConfig(converter=c), settings=settings)
                    for c in config.converters}

    def speaker(self, split: SpeakerSplit, others: list[SpeakerSplit]) -> Iterator[dict[str, Any]]:
        clips = [load(u.path) for u in split.enrol]
        profile = build_profile(split.speaker, clips, self.converter)
        voice = self._library_voice(split)
        refs = [self.scorer.embed(load(u.path)) for u in split.score]
        ctx = {"set": split.set_name, "speaker": split.speaker, "gender": split.gender,
               "lang": split.lang, "enrol_seconds": round(sum(c.duration for c in clips), 2)}
        jobs = [(i, _speakable(t), _lang(split.lang), "") for i, t in enumerate(split.texts)]
        jobs += [(0, t, lang, f"@{lang}") for lang, t in self.lang_texts.items()]
        for i, text, lang, suffix in jobs:
            start = time.perf_counter()
            raw = self.base.synthesize(text, lang)
            yield self._item(ctx, FLOOR_TTS + suffix, "floor", raw, refs, text, None,
                             time.perf_counter() - start, i, text_lang=lang)
            for name, cloner in self.cloners.items():
                if lang not in cloner.tts.languages:
                    continue
                # Kokoro searches its style from the voice's clips and other converters build
                # their own profile from them; the rest use the WORLD profile built above.
                target = voice if _needs_clips(cloner.config) else profile
                start = time.perf_counter()
                result = cloner.synthesize(text, target, lang, candidates=self.config.candidates)
                yield self._item(ctx, name + suffix, "tts", result.audio, refs, text, raw,
                                 time.perf_counter() - start, i, base_voice=result.base_voice,
                                 text_lang=lang)
        yield from self._conversions(ctx, split, others, profile, refs, clips)
        for utt in split.ceiling:
            yield self._item(ctx, CEILING, "ceiling", load(utt.path), refs, utt.transcript, None, 0.0, 0)

    def _library_voice(self, split: SpeakerSplit) -> str | None:
        """The speaker's enrolment clips as a voice of the run's library (for Kokoro's style
        search and converters other than WORLD, which work from clips); None when no pipeline
        needs it."""
        if not any(_needs_clips(c.config) for c in self.cloners.values()):
            return None
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"eval-{split.set_name}-{split.speaker}")[:64]
        self.library.add(name, [u.path for u in split.enrol], replace=True)
        return name

    def _conversions(self, ctx: dict[str, Any], split: SpeakerSplit, others: list[SpeakerSplit],
                     profile: VoiceProfile, refs: list[Embeddings],
                     clips: list[Audio]) -> Iterator[dict[str, Any]]:
        sources = _sources(others, self.config.vc_sources) if self.vcs else []
        # A converter with features of its own (e.g. knn's matching set) gets its own profile.
        profiles = {name: profile if vc.converter.version == self.converter.version
                    else build_profile(split.speaker, clips, vc.converter)
                    for name, vc in self.vcs.items()} if sources else {}
        for i, utt in enumerate(sources):
            source = load(utt.path)
            yield self._item(ctx, FLOOR_VC, "floor", source, refs, utt.transcript, None, 0.0, i,
                             source_speaker=utt.speaker)
            for name, vc in self.vcs.items():
                start = time.perf_counter()
                out = vc.convert(source, profiles[name])
                yield self._item(ctx, f"vc:{name}", "vc", out, refs, utt.transcript, source,
                                 time.perf_counter() - start, i, source_speaker=utt.speaker)

    def _item(self, ctx: dict[str, Any], method: str, kind: str, audio: Audio, refs: list[Embeddings],
              text: str, source: Audio | None, seconds: float, index: int, **extra: Any) -> dict[str, Any]:
        item = {**ctx, "method": method, "kind": kind, "index": index, "text": text, **extra}
        spoken = extra.get("text_lang", _lang(ctx["lang"]))
        scored = spoken == "en" or self.config.asr != "pocketsphinx"
        item.update(self.scorer.score(audio, refs, text if scored else None, source, spoken))
        item["seconds"] = round(seconds, 3)
        item["rtf"] = round(seconds / max(audio.duration, 1e-6), 4) if seconds else None
        if self.config.save_audio and self.out_dir is not None:
            from voxclone.audio.io import save

            name = f"{ctx['set']}-{ctx['speaker']}-{method.replace(':', '_')}-{index}.wav"
            item["audio"] = str(save(audio, self.out_dir / "audio" / name))
        return item


def _needs_clips(config: PipelineConfig) -> bool:
    """Whether a pipeline works from the voice's clips rather than the run's WORLD profile."""
    return (config.tts == "kokoro" or config.tts.startswith("codec-lm:")
            or config.converter not in ("world", "none"))


def split_spec(spec: str) -> tuple[str, str]:
    """``tts:converter`` → (tts, converter); an engine with an argument keeps it:
    ``codec-lm:runs/me/checkpoints/step-200:none`` → (``codec-lm:runs/…/step-200``, ``none``)."""
    if spec.count(":") >= 2:
        tts, _, converter = spec.rpartition(":")
        return tts, converter
    tts, _, converter = spec.partition(":")
    return tts, converter


def _pipeline_config(spec: str, config: EvalConfig = EvalConfig()) -> PipelineConfig:
    tts, converter = split_spec(spec)
    return PipelineConfig(tts=tts or "espeak", converter=converter or "world", effort=config.effort,
                          search_steps=config.search_steps, search_first=True)


def texts_by_language(sets: list[Path], langs: tuple[str, ...]) -> dict[str, str]:
    """The first transcript (by utterance id) of each of ``langs`` found in the sets' manifests."""
    found: dict[str, str] = {}
    wanted = [_lang(lang) for lang in langs]
    for set_dir in sets:
        for utt in sorted(read_manifest(set_dir), key=lambda u: u.utt_id):
            lang = _lang(utt.lang)
            if lang in wanted and lang not in found and utt.transcript.strip():
                found[lang] = utt.transcript.strip()
    return {lang: found[lang] for lang in wanted if lang in found}


def _sources(others: list[SpeakerSplit], n: int) -> list[Utterance]:
    picked = [s.ceiling[0] for s in others if s.ceiling]
    return picked[:n]


def _lang(lang: str) -> str:
    return lang.split("-")[0].lower() or "en"


def _speakable(text: str) -> str:
    """LibriSpeech transcripts are upper case, which TTS engines may spell out letter by letter."""
    return text.capitalize() if text.isupper() else text

"""Parts of the Kokoro style search: the held-out split, the objective, the start voice and the
evolution strategy. :mod:`voxclone.pipeline.kokoro_clone` puts them together."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxclone.audio.speaker import cosine, speaker_encoder
from voxclone.audio.types import Audio
from voxclone.errors import ReferenceTooShort
from voxclone.pipeline.cache_files import write_npz
from voxclone.tts.kokoro import SAMPLE_RATE, KokoroTTS

log = logging.getLogger(__name__)
MIN_HOLDOUT_S = 1.5
"""A single clip is cut for a held-out part only when both parts are at least this long."""


def split_holdout(clips: Sequence[Audio]) -> tuple[list[Audio], Audio]:
    """Enrolment clips and one held-out clip: the median-length clip of three or more, the shorter
    of two, or the last third of a single clip (the whole clip when that is too short)."""
    if not clips:
        raise ReferenceTooShort("No reference clips given for the style search: pass one or more "
                                "clips of the speaker (10-30 s of speech works best).")
    if len(clips) == 1:
        clip = clips[0]
        cut = clip.duration * 2 / 3
        if clip.duration - cut < MIN_HOLDOUT_S:
            return [clip], clip
        return [clip.slice(0, cut)], clip.slice(cut, clip.duration)
    order = sorted(range(len(clips)), key=lambda i: (clips[i].duration, i))
    held = order[len(order) // 2] if len(clips) > 2 else order[0]
    return [c for i, c in enumerate(clips) if i != held], clips[held]


@dataclass
class Trial:
    """One style spoken on the search texts.

    audio: one Audio per text (24 kHz); enrol / holdout: mean cosine of their embeddings to the
    enrolment embedding / the held-out clip's; wer: filled in when measured; per_text: the
    enrolment cosine of each text's speech; embeddings: those texts' embeddings (n_texts, dim),
    None for speech that was not finite.
    """

    audio: list[Audio]
    enrol: float
    holdout: float
    wer: float | None = None
    per_text: tuple[float, ...] = ()
    embeddings: np.ndarray | None = None


class StyleObjective:
    """Speaks a style table (510, 1, 256) on short texts and scores it against a speaker."""

    def __init__(self, tts: KokoroTTS, texts: Sequence[str], lang: str, enrol: Sequence[Audio],
                 holdout: Audio) -> None:
        self.tts, self.texts, self.lang = tts, list(texts), lang
        self.encoder = speaker_encoder()
        self.tokens = [tts.tokenize(t, lang)[0] for t in self.texts]
        self.target = self.encoder.embed_many(list(enrol))
        self.holdout = self.encoder.embed(holdout)

    def __call__(self, table: np.ndarray,
                 known: dict[int, tuple[Audio, np.ndarray | None]] | None = None) -> Trial:
        """The style spoken on every text (``known``: texts already spoken, by index)."""
        parts = [(known or {}).get(i) or self.speak(table, i) for i in range(len(self.tokens))]
        audio = [a for a, _ in parts]
        if any(e is None for _, e in parts):  # a style far off the voices
            return Trial(audio, -1.0, -1.0, 1.0, (-1.0,) * len(parts))
        return self.score(audio, np.stack([e for _, e in parts]))  # type: ignore[misc]

    def speak(self, table: np.ndarray, i: int) -> tuple[Audio, np.ndarray | None]:
        """Text ``i`` spoken with the style and its embedding (None when the speech is not finite)."""
        audio = Audio(self.tts.synthesize_tokens(self.tokens[i], table), SAMPLE_RATE)
        if not np.isfinite(audio.samples).all():
            return audio, None
        return audio, self.encoder.embed(audio)

    def score(self, audio: list[Audio], embeddings: np.ndarray, wer: float | None = None) -> Trial:
        """The trial of speech whose per-text embeddings (n_texts, dim) are known."""
        per_text = tuple(cosine(e, self.target) for e in embeddings)
        return Trial(audio, float(np.mean(per_text)),
                     float(np.mean([cosine(e, self.holdout) for e in embeddings])), wer, per_text,
                     embeddings)

    def enrol_cosine(self, embedding: np.ndarray | None) -> float:
        """Cosine of one text's embedding to the enrolment (-1 for speech that was not finite)."""
        return -1.0 if embedding is None else cosine(embedding, self.target)

    @property
    def words(self) -> int:
        """Words in the search texts (what WER is counted over)."""
        return sum(len(t.split()) for t in self.texts)

    def wer(self, trial: Trial) -> float | None:
        """Whisper (tiny.en) WER of the trial over all texts (word errors / words); None unless
        English (the guard's slack is counted in words)."""
        if self.lang != "en":
            return None
        if trial.wer is None:
            if not trial.audio:
                raise ValueError("A trial without audio needs its WER given.")
            from voxclone.asr import word_error_rate

            errors = [word_error_rate(a, t)[0] * len(t.split())
                      for a, t in zip(trial.audio, self.texts)]
            trial.wer = float(sum(errors) / self.words)
        return trial.wer


def bundled_trials(tts: KokoroTTS, objective: StyleObjective,
                   cache_dir: Path | None = None) -> dict[str, Trial]:
    """Every bundled voice spoken on the search texts and scored against the speaker.

    The speech of a bundled voice does not depend on the speaker, so with ``cache_dir`` its
    embeddings and WER are kept there and later searches only score them (their trials then carry
    no audio).
    """
    tables = tts.voice_tables()
    path = None if cache_dir is None else cache_dir / f"bundled-{_bundled_key(tts, objective)}.npz"
    stored = _load_bundled(path, sorted(tables)) if path is not None else None
    if stored is not None:
        return {name: objective.score([], embs, wer) for name, (embs, wer) in stored.items()}
    trials = {name: objective(tts.style_table(name)) for name in sorted(tables)}
    if path is not None and all(t.embeddings is not None for t in trials.values()):
        _save_bundled(path, {name: (t.embeddings, objective.wer(t)) for name, t in trials.items()})
    return trials


def _bundled_key(tts: KokoroTTS, objective: StyleObjective) -> str:
    digest = hashlib.sha256(json.dumps([2, objective.texts, objective.lang,
                                        tts.model_path().name]).encode())
    for name, table in sorted(tts.voice_tables().items()):
        digest.update(name.encode() + np.ascontiguousarray(table, np.float32).tobytes())
    return digest.hexdigest()[:24]


def _load_bundled(path: Path, names: list[str]) -> dict[str, tuple[np.ndarray, float | None]] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as npz:
            wers = json.loads(str(npz["wers"]))
            return {name: (np.asarray(npz[f"emb_{name}"], np.float32), wers[name]) for name in names}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable bundled-voice cache %s (%s)", path, exc)
        return None


def _save_bundled(path: Path, data: dict[str, tuple[np.ndarray, float | None]]) -> None:
    write_npz(path, wers=np.array(json.dumps({n: w for n, (_, w) in data.items()})),
              **{f"emb_{n}": e for n, (e, _) in data.items()})


def start_voice(tts: KokoroTTS, objective: StyleObjective,
                cache_dir: Path | None = None) -> tuple[str | dict[str, float], Trial]:
    """The bundled voice, or the 50/50 blend of the best two, closest to the enrolment."""
    trials = bundled_trials(tts, objective, cache_dir)
    ranked = sorted(trials, key=lambda n: -trials[n].enrol)
    best: str | dict[str, float] = ranked[0]
    trial = trials[ranked[0]]
    if len(ranked) > 1:
        pair = {ranked[0]: 0.5, ranked[1]: 0.5}
        blended = objective(tts.style_table(pair))
        if blended.enrol > trial.enrol:
            best, trial = pair, blended
    return best, trial


def style_scale(tts: KokoroTTS) -> np.ndarray:
    """Spread of each of the 256 style values over the bundled voices (mean over rows), (256,)."""
    tables = np.stack([t[:, 0, :] for t in tts.voice_tables().values()])
    return tables.std(axis=0).mean(axis=0).astype(np.float32)


class OnePlusOne:
    """(1+1) evolution strategy with the 1/5 success rule on one 256-value offset added to every
    row of ``base`` (510, 1, 256), searched in units of ``scale`` (256,).

    The step size stays within [step_size / 2, 2 * step_size]: much smaller steps change Kokoro's
    speech (int8 model, whole-frame durations) by jumps that the encoder scores as noise, and a
    search there only fits that noise.

    ``best`` is the accepted style that scored highest on the held-out clip; ``stale`` counts the
    accepted steps since it last improved.
    """

    def __init__(self, base: np.ndarray, scale: np.ndarray, first: Trial, step_size: float,
                 seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.base, self.scale, self.sigma = base, scale, step_size
        self.bounds = (step_size / 2, step_size * 2)
        self.x = self._candidate = np.zeros_like(scale)
        self.current = self.best = first
        self.best_table = base
        self.steps = self.stale = 0

    def propose(self) -> np.ndarray:
        """The next candidate table (510, 1, 256) float32."""
        self._candidate = self.x + self.sigma * self.rng.standard_normal(self.x.shape)
        return (self.base + (self._candidate * self.scale)[None, None, :]).astype(np.float32)

    def update(self, table: np.ndarray, trial: Trial | None, accepted: bool) -> None:
        """Move to the last proposal if ``accepted``; adapt the step size either way."""
        self.steps += 1
        self.sigma = float(np.clip(self.sigma * np.exp(0.8 if accepted else -0.2), *self.bounds))
        if not accepted or trial is None:
            return
        self.x, self.current = self._candidate, trial
        if trial.holdout > self.best.holdout:
            self.best, self.best_table, self.stale = trial, table, 0
        else:
            self.stale += 1

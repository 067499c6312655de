"""Kokoro voice cloning by style search.

Kokoro speaks with a style table (510, 1, 256). No encoder maps a speaker's clips to such a table,
so this module searches for one: it starts from the closest bundled voice (or a blend of two),
then runs a (1+1) evolution strategy on one 256-value offset added to every row of the table,
scored by the speaker encoder over several short texts. One enrolment clip is kept out of the
objective and picks the result (early stopping); a candidate whose pocketsphinx WER on the search
texts is worse than the start's is rejected.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from tqdm import tqdm

from voxclone.audio.speaker import cosine, speaker_encoder
from voxclone.audio.types import Audio
from voxclone.errors import InvalidSetting, ReferenceTooShort
from voxclone.eval.wer import word_error_rate
from voxclone.tts.kokoro import SAMPLE_RATE, KokoroTTS

log = logging.getLogger(__name__)

SEARCH_VERSION = 1
"""Bumped whenever the search changes what it finds; cached styles are then recomputed."""
DEFAULT_TEXTS = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "Four hours of steady work faced us.",
    "The boy was there when the sun rose.",
)
EFFORT = {"fast": 0.35, "standard": 1.0, "high": 3.0}
MIN_HOLDOUT_S = 1.5


@dataclass(frozen=True)
class StyleSearchConfig:
    """How a Kokoro style is searched.

    seed: seed of the random steps; the same seed, clips and step count give the same table.
    budget_s: wall-clock seconds at effort 1 (2 CPU cores), start-voice choice included.
    effort: "fast", "standard", "high" or a multiplier of ``budget_s`` and ``max_steps``.
    texts: short sentences the candidates speak (a few words each, several of them).
    lang: language of ``texts``; the WER guard runs only for English.
    step_size: initial step, in units of the spread of the bundled voices per style value.
    max_steps: candidate styles tried at most at effort 1 (the budget usually stops first).
    patience: stop after this many accepted steps without a gain on the held-out clip.
    wer_guard: reject candidates whose WER on ``texts`` is worse than the start's.
    wer_margin: WER a candidate may lose against the start before it is rejected.
    """

    seed: int = 0
    budget_s: float = 90.0
    effort: str | float = "standard"
    texts: tuple[str, ...] = DEFAULT_TEXTS
    lang: str = "en"
    step_size: float = 0.35
    max_steps: int = 200
    patience: int = 12
    wer_guard: bool = True
    wer_margin: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.effort, str) and self.effort not in EFFORT:
            raise InvalidSetting(f"effort={self.effort!r}: use {', '.join(EFFORT)} or a number.")
        if self.factor <= 0 or self.budget_s <= 0 or not self.texts:
            raise InvalidSetting("A style search needs a positive budget and effort, and texts.")
        object.__setattr__(self, "texts", tuple(self.texts))

    @property
    def factor(self) -> float:
        """The effort as a multiplier."""
        return EFFORT[self.effort] if isinstance(self.effort, str) else float(self.effort)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of the fields."""
        data = asdict(self)
        data["texts"] = list(self.texts)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StyleSearchConfig":
        """Build from a dict, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class StyleSearchResult:
    """A found style and how well it fits.

    table: style table (510, 1, 256) float32 for ``KokoroTTS.synthesize(style_table=...)``.
    start: the bundled voice or blend (name → weight) the search started from.
    start_score / enrol_score: mean cosine of the speech to the enrolment embedding, at the
        start and for ``table`` (the clips the objective saw).
    start_holdout / holdout_score: the same against the held-out enrolment clip.
    wer_start / wer_end: pocketsphinx WER on the search texts (None when not English).
    steps: candidate styles tried; seconds: wall-clock time of the search.
    """

    table: np.ndarray
    start: str | dict[str, float]
    start_score: float
    enrol_score: float
    start_holdout: float
    holdout_score: float
    wer_start: float | None
    wer_end: float | None
    steps: int
    seconds: float

    def meta(self) -> dict[str, Any]:
        """Every field but the table, JSON-serialisable."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "table"}

    @classmethod
    def from_meta(cls, table: np.ndarray, meta: dict[str, Any]) -> "StyleSearchResult":
        """Inverse of :meth:`meta`."""
        names = {f.name for f in fields(cls)} - {"table"}
        return cls(table=np.asarray(table, dtype=np.float32), **{k: meta[k] for k in names})


@dataclass
class _Trial:
    """Speech of one style on the search texts: per-text embeddings (n, 256) and scores."""

    audio: list[Audio]
    enrol: float
    holdout: float
    wer: float | None = None


class _Objective:
    """Speaks a style table on the search texts and scores it against the targets."""

    def __init__(self, tts: KokoroTTS, config: StyleSearchConfig, enrol: list[Audio],
                 holdout: Audio) -> None:
        self.tts, self.config, self.encoder = tts, config, speaker_encoder()
        self.tokens = [tts.tokenize(t, config.lang)[0] for t in config.texts]
        self.target = self.encoder.embed_many(enrol)
        self.holdout = self.encoder.embed(holdout)
        self.evaluations = 0

    def __call__(self, table: np.ndarray) -> _Trial:
        self.evaluations += 1
        audio = [Audio(self.tts.synthesize_tokens(t, table), SAMPLE_RATE) for t in self.tokens]
        embs = [self.encoder.embed(a) for a in audio]
        return _Trial(audio, float(np.mean([cosine(e, self.target) for e in embs])),
                      float(np.mean([cosine(e, self.holdout) for e in embs])))

    def wer(self, trial: _Trial) -> float | None:
        """WER of the trial's speech over all texts (word errors / words); None if not English."""
        if self.config.lang != "en":
            return None
        if trial.wer is None:
            words = [len(t.split()) for t in self.config.texts]
            errors = [word_error_rate(a, t)[0] * n
                      for a, t, n in zip(trial.audio, self.config.texts, words)]
            trial.wer = float(sum(errors) / sum(words))
        return trial.wer


def split_holdout(clips: list[Audio]) -> tuple[list[Audio], Audio]:
    """Enrolment clips and one held-out clip: the median-length clip of three or more, the shorter
    of two, or the last third of a single clip (at least ``MIN_HOLDOUT_S`` s either side)."""
    if not clips:
        raise ReferenceTooShort("No reference clips given for the style search.")
    if len(clips) == 1:
        clip = clips[0]
        cut = clip.duration * 2 / 3
        if clip.duration - cut < MIN_HOLDOUT_S:
            return [clip], clip
        return [clip.slice(0, cut)], clip.slice(cut, clip.duration)
    order = sorted(range(len(clips)), key=lambda i: (clips[i].duration, i))
    held = order[len(order) // 2] if len(clips) > 2 else order[0]
    return [c for i, c in enumerate(clips) if i != held], clips[held]


def _start_voice(tts: KokoroTTS, objective: _Objective) -> tuple[str | dict[str, float], _Trial]:
    """The bundled voice, or 50/50 blend of the best two, that scores best on the enrolment."""
    names = sorted(tts.voice_tables())
    trials = {name: objective(tts.style_table(name)) for name in names}
    ranked = sorted(names, key=lambda n: -trials[n].enrol)
    candidates: dict[str | tuple[str, ...], _Trial] = dict(trials)
    if len(ranked) > 1:
        pair = {ranked[0]: 0.5, ranked[1]: 0.5}
        candidates[tuple(pair)] = objective(tts.style_table(pair))
    best = max(candidates, key=lambda k: candidates[k].enrol)
    start = {n: 0.5 for n in best} if isinstance(best, tuple) else best
    return start, candidates[best]


def _style_scale(tts: KokoroTTS) -> np.ndarray:
    """Spread of each of the 256 style values over the bundled voices (mean over rows), (256,)."""
    tables = np.stack([t[:, 0, :] for t in tts.voice_tables().values()])
    return tables.std(axis=0).mean(axis=0).astype(np.float32)


def search_style(clips: list[Audio], config: StyleSearchConfig = StyleSearchConfig(),
                 tts: KokoroTTS | None = None, progress: bool = False) -> StyleSearchResult:
    """Search a Kokoro style table whose speech sounds like the speaker of ``clips``.

    Time-bounded by ``config.budget_s * effort``; deterministic for ``config.seed`` when the
    step cap (not the clock) ends it. ``progress`` shows a bar on a terminal.
    """
    began = time.perf_counter()
    tts = tts or KokoroTTS()
    deadline = began + config.budget_s * config.factor
    enrol, holdout = split_holdout(list(clips))
    objective = _Objective(tts, config, enrol, holdout)
    start, first = _start_voice(tts, objective)
    base = tts.style_table(start)
    wer_start = objective.wer(first) if config.wer_guard else None
    search = _OnePlusOne(config, _style_scale(tts), base, first)
    cap = max(1, round(config.max_steps * config.factor))
    bar = tqdm(total=cap, desc="style search", unit="step", disable=not progress or None)
    while search.steps < cap and time.perf_counter() < deadline and search.stale < config.patience:
        table = search.propose()
        trial = objective(table)
        accept = trial.enrol > search.current.enrol and _intelligible(objective, trial, wer_start,
                                                                      config)
        search.update(table, trial, accept)
        bar.update()
        bar.set_postfix(enrol=f"{search.current.enrol:.3f}", held=f"{search.best.holdout:.3f}")
    bar.close()
    best = search.best
    wer_end = objective.wer(best) if wer_start is not None else None
    seconds = time.perf_counter() - began
    log.info("style search: %d steps in %.1f s, enrol %.3f -> %.3f, held-out %.3f -> %.3f",
             search.steps, seconds, first.enrol, best.enrol, first.holdout, best.holdout)
    return StyleSearchResult(search.best_table, start, first.enrol, best.enrol, first.holdout,
                             best.holdout, wer_start, wer_end, search.steps, seconds)


def _intelligible(objective: _Objective, trial: _Trial, wer_start: float | None,
                  config: StyleSearchConfig) -> bool:
    if wer_start is None:
        return True
    wer = objective.wer(trial)
    return wer is None or wer <= wer_start + config.wer_margin


class _OnePlusOne:
    """(1+1) evolution strategy with the 1/5 success rule on one offset added to every row.

    The offset is searched in units of ``scale`` (256,); ``best`` is the accepted style that
    scored highest on the held-out clip.
    """

    def __init__(self, config: StyleSearchConfig, scale: np.ndarray, base: np.ndarray,
                 first: _Trial) -> None:
        self.rng = np.random.default_rng(config.seed)
        self.scale, self.base, self.sigma = scale, base, config.step_size
        self.x = np.zeros_like(scale)
        self.current = self.best = first
        self.best_table = base
        self.steps = self.stale = 0
        self._candidate = self.x

    def propose(self) -> np.ndarray:
        self._candidate = self.x + self.sigma * self.rng.standard_normal(self.x.shape)
        return (self.base + (self._candidate * self.scale)[None, None, :]).astype(np.float32)

    def update(self, table: np.ndarray, trial: _Trial, accepted: bool) -> None:
        self.steps += 1
        self.sigma *= np.exp(0.8 if accepted else -0.2)
        if not accepted:
            return
        self.x, self.current = self._candidate, trial
        if trial.holdout > self.best.holdout:
            self.best, self.best_table, self.stale = trial, table, 0
        else:
            self.stale += 1

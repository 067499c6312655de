"""Kokoro voice cloning by style search.

Kokoro speaks with a style table (510, 1, 256). No encoder maps a speaker's clips to such a table,
so this module searches for one: it starts from the closest bundled voice (or a blend of two),
then runs a (1+1) evolution strategy on one offset added to every row of the table (by default
to its decoder half, the timbre), scored by the speaker encoder over several short texts. One
enrolment clip is kept out of the objective and picks the result (early stopping); a candidate
is first spoken on one text and finished only when it wins there; a candidate whose Whisper
WER on the search texts is worse than the start's (beyond one word) is rejected.

The start phase alone (:func:`start_style`) is cheap: the bundled voices' scores are kept per
machine, so it costs the speaker's embeddings and one blend spoken on the search texts. A new
voice speaks with it at once while the full search refines it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from voxclone.audio.types import Audio
from voxclone.errors import InvalidSetting
from voxclone.pipeline.config import EFFORT
from voxclone.pipeline.style_search import (OnePlusOne, StyleObjective, Trial, split_holdout,
                                            start_voice, style_scale)
from voxclone.tts.kokoro import KokoroTTS

log = logging.getLogger(__name__)

SEARCH_VERSION = 6  # 6: the WER guard transcribes with Whisper tiny.en
"""Bumped whenever the search changes what it finds; cached styles are then recomputed."""
DEFAULT_TEXTS = (
    "The juice of lemons is fine.",
    "The boy was there at dawn.",
    "Four hours of steady work.",
)
PARTS = {"decoder": slice(0, 128), "all": slice(0, 256)}
_THREADS_LOCK = threading.Lock()
_THREADS_HELD: list[int] = []  # [threads before the first search, one 0 per search running]


@dataclass(frozen=True)
class StyleSearchConfig:
    """How a Kokoro style is searched.

    seed: seed of the random steps; the same seed, clips and step count give the same table.
    budget_s: wall-clock seconds at effort 1 (2 CPU cores), start-voice choice included.
    effort: "fast", "standard", "high" or a multiplier of ``budget_s`` and ``max_steps``.
    texts: short sentences the candidates speak (a few words each, several of them).
    lang: language of ``texts``; the WER guard runs only for English.
    step_size: initial step, in units of the spread of the bundled voices per style value. Near
        a bundled voice the encoder's score is flat: steps of 0.1-0.35 spreads moved it by about
        +-0.01, steps of 1.2 found gains of 0.05 or more on the enrolment and on the held-out clip
        alike (one development speaker, 8 candidates per size).
    part: "decoder" searches the first 128 style values (timbre) and keeps the start's prosody
        half, whose smallest changes move whole-frame durations; "all" searches all 256.
    max_steps: candidate styles tried at most at effort 1 (about what ``budget_s`` buys on an idle
        2-core machine; on a busy one the budget stops first).
    patience: stop after this many accepted steps without a gain on the held-out clip.
    wer_guard: reject candidates whose WER on ``texts`` is worse than the start's.
    wer_slack_words: word errors over all ``texts`` a candidate may make beyond the start's
        before it is rejected. Pocketsphinx on a few short texts counts in steps of one word
        (1/17 of the default texts): with no slack, a start that happens to score one or two
        errors rejects nearly every candidate and the search never moves.
    screen: speak each candidate on one text first (the texts in turn) and finish only those that
        beat the current style on it: most candidates lose, so a step costs about one text.
    wer_probes: styles a tiny step (0.02 spreads) from the start whose WER is averaged with the
        start's: an ASR on short texts swings by several words between styles that sound
        alike, so a single measurement of the start is luck.
    """

    seed: int = 0
    budget_s: float = 90.0
    effort: str | float = "standard"
    texts: tuple[str, ...] = DEFAULT_TEXTS
    lang: str = "en"
    step_size: float = 1.0
    part: str = "decoder"
    max_steps: int = 60
    patience: int = 12
    wer_guard: bool = True
    wer_slack_words: int = 1
    wer_probes: int = 2
    screen: bool = True

    def __post_init__(self) -> None:
        if self.part not in PARTS:
            raise InvalidSetting(f"part={self.part!r}: use {' or '.join(PARTS)}.")
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
    wer_start / wer_end: Whisper WER on the search texts (None when not English).
    steps: candidate styles tried; seconds: wall-clock time of the search.
    stage: "refined" for a full search, "start" for the start phase alone (``table`` is the
        start voice or blend, ``steps`` 0, no WER measured).
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
    stage: str = "refined"

    def meta(self) -> dict[str, Any]:
        """Every field but the table, JSON-serialisable."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "table"}

    @classmethod
    def from_meta(cls, table: np.ndarray, meta: dict[str, Any]) -> "StyleSearchResult":
        """Inverse of :meth:`meta`."""
        names = {f.name for f in fields(cls)} - {"table", "stage"}
        return cls(table=np.asarray(table, dtype=np.float32), stage=meta.get("stage", "refined"),
                   **{k: meta[k] for k in names})


def search_style(clips: list[Audio], config: StyleSearchConfig = StyleSearchConfig(),
                 tts: KokoroTTS | None = None, progress: bool = False,
                 cache_dir: Path | None = None) -> StyleSearchResult:
    """Search a Kokoro style table whose speech sounds like the speaker of ``clips``.

    Time-bounded by ``config.budget_s * effort``; deterministic for ``config.seed`` when the step
    cap (not the clock) ends it. ``progress`` shows a bar on a terminal. ``cache_dir`` keeps the
    bundled voices' scores (the same for every speaker) so later searches start at once.
    """
    with _single_torch_thread():
        return _search(list(clips), config, tts or KokoroTTS(), progress, cache_dir)


def start_style(clips: list[Audio], config: StyleSearchConfig = StyleSearchConfig(),
                tts: KokoroTTS | None = None, cache_dir: Path | None = None) -> StyleSearchResult:
    """The search's start alone: the bundled voice, or blend of the best two, closest to the
    speaker of ``clips`` (``stage`` "start"). Seconds where the full search takes minutes; with
    ``cache_dir`` holding the bundled voices' scores it speaks only the blend."""
    with _single_torch_thread():
        began = time.perf_counter()
        tts = tts or KokoroTTS()
        enrol, holdout = split_holdout(list(clips))
        objective = StyleObjective(tts, config.texts, config.lang, enrol, holdout)
        start, first = start_voice(tts, objective, cache_dir)
        seconds = time.perf_counter() - began
    log.info("start style %s in %.1f s: enrolment %.3f, held-out %.3f", start, seconds,
             first.enrol, first.holdout)
    return StyleSearchResult(tts.style_table(start), start, first.enrol, first.enrol,
                             first.holdout, first.holdout, None, None, 0, seconds, "start")


@contextmanager
def _single_torch_thread() -> Iterator[None]:
    """One intra-op thread for the speaker encoder: on short clips more threads only contend
    with the TTS (0.05 s instead of up to 0.9 s per embedding on a busy 2-core machine).
    Searches may overlap (one refining in the background): the last to leave restores."""
    import torch

    with _THREADS_LOCK:
        if not _THREADS_HELD:
            _THREADS_HELD.append(torch.get_num_threads())
            torch.set_num_threads(1)
        _THREADS_HELD.append(0)
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS_HELD.pop()
            if len(_THREADS_HELD) == 1:
                torch.set_num_threads(_THREADS_HELD.pop())


def _search(clips: list[Audio], config: StyleSearchConfig, tts: KokoroTTS,
            progress: bool, cache_dir: Path | None) -> StyleSearchResult:
    began = time.perf_counter()
    deadline = began + config.budget_s * config.factor
    enrol, holdout = split_holdout(clips)
    objective = StyleObjective(tts, config.texts, config.lang, enrol, holdout)
    start, first = start_voice(tts, objective, cache_dir)
    scale = np.zeros(256, np.float32)
    scale[PARTS[config.part]] = style_scale(tts)[PARTS[config.part]]
    search = OnePlusOne(tts.style_table(start), scale, first, config.step_size, config.seed)
    wer_start = _start_wer(objective, search, first, config) if config.wer_guard else None
    cap = max(1, round(config.max_steps * config.factor))
    bar = tqdm(total=cap, desc="style search", unit="step", disable=not progress or None)
    while search.steps < cap and time.perf_counter() < deadline and search.stale < config.patience:
        table = search.propose()
        trial = _screened(objective, search, table) if config.screen else objective(table)
        better = trial is not None and trial.enrol > search.current.enrol
        search.update(table, trial, better and _intelligible(objective, trial, wer_start, config))
        if trial is not None:
            log.debug("step %d: enrolment %.3f held-out %.3f wer %s sigma %.3f", search.steps,
                      trial.enrol, trial.holdout, trial.wer, search.sigma)
        bar.update()
        bar.set_postfix(enrol=f"{search.current.enrol:.3f}", held=f"{search.best.holdout:.3f}")
    bar.close()
    best = search.best
    seconds = time.perf_counter() - began
    log.info("style search: %d steps in %.1f s, enrolment %.3f -> %.3f, held-out %.3f -> %.3f",
             search.steps, seconds, first.enrol, best.enrol, first.holdout, best.holdout)
    return StyleSearchResult(search.best_table, start, first.enrol, best.enrol, first.holdout,
                             best.holdout, wer_start, objective.wer(best) if wer_start is not None
                             else None, search.steps, seconds)


def _screened(objective: StyleObjective, search: OnePlusOne, table: np.ndarray) -> Trial | None:
    """The candidate's trial, or None when its speech of one text (in turn) already scores no
    better than the current style's speech of that text."""
    n = len(objective.tokens)
    if n < 2:
        return objective(table)
    i = search.steps % n
    audio, embedding = objective.speak(table, i)
    if objective.enrol_cosine(embedding) <= search.current.per_text[i]:
        return None
    return objective(table, {i: (audio, embedding)})


def _start_wer(objective: StyleObjective, search: OnePlusOne, first: Trial,
               config: StyleSearchConfig) -> float | None:
    """WER of the start: the mean over it and ``wer_probes`` styles a tiny step away."""
    if objective.wer(first) is None:
        return None
    rng = np.random.default_rng([config.seed, 1])
    probes = [search.base + (0.02 * rng.standard_normal(search.scale.shape) * search.scale)
              .astype(np.float32)[None, None, :] for _ in range(config.wer_probes)]
    wers = [objective.wer(t) for t in [first, *(objective(p) for p in probes)]]
    return float(np.mean([w for w in wers if w is not None]))


def _intelligible(objective: StyleObjective, trial: Trial, wer_start: float | None,
                  config: StyleSearchConfig) -> bool:
    """Whether the trial's WER on the search texts is no worse than the start's (+ margin)."""
    if wer_start is None:
        return True
    wer = objective.wer(trial)
    return wer is None or wer <= wer_start + config.wer_slack_words / objective.words + 1e-9

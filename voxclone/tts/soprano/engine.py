"""``SopranoTTS``: the Python API (as the official one's) and the ``soprano`` TTSEngine.

    tts = SopranoTTS(model_dir, backend="onnxruntime", num_threads=1)
    result = tts.synthesize("Hello world!", temperature=0.0, seed=0)
    result.audio, result.sample_rate, result.timings_ms
    for chunk in tts.stream("Hello world!"): ...   # SopranoChunk, first after 5 tokens

Every sentence of a text is generated in one batch (as the official ``infer`` does); each is
decoded on its own and the sentences are joined without a gap. English only.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.errors import InvalidSetting, ModelNotFound, TextError
from voxclone.text.languages import normalize_language
from voxclone.timing import StageTimer
from voxclone.tts.base import BaseVoice, Style
from voxclone.tts.soprano.backends import BACKENDS, TorchDecoder, TorchLM, graph_backend
from voxclone.tts.soprano.checkpoint import (FETCH_HINT, check_folder, lm_config, load_decoder,
                                             load_lm, load_tokenizer)
from voxclone.tts.soprano.config import SAMPLE_RATE, GenerationConfig
from voxclone.tts.soprano.generate import Generated, generate, iter_tokens
from voxclone.tts.soprano.split import prompt, text_to_sentences
from voxclone.tts.soprano.streaming import BackgroundDecoder, stream_audio

MODEL_DIRS = ("soprano-1.1-80m", "soprano-80m")
MAX_PROMPT_TOKENS = 512
VOICE = BaseVoice("soprano", "en", "F", "soprano")


@dataclass
class SopranoResult:
    """One synthesis: float32 audio (n,) at ``sample_rate``, the spoken sentences, tokens per
    sentence, why each ended, and milliseconds per stage (lm_prefill, lm_steps, decoder, istft;
    with decoding beside generation, decoder and istft overlap the LM and decode_wait is the
    wait for the last windows)."""

    audio: np.ndarray
    sample_rate: int
    sentences: list[str]
    tokens: list[int]
    finish_reasons: list[str | None]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return len(self.audio) / self.sample_rate


@dataclass(frozen=True)
class SopranoChunk:
    """A piece of streamed audio: float32 (n,) at ``sample_rate``, of sentence ``sentence``;
    ``last`` on the final chunk of that sentence."""

    samples: np.ndarray
    sample_rate: int
    sentence: int
    last: bool


def default_model_dir() -> Path:
    """The fetched Soprano-1.1-80M folder, else Soprano-80M; ModelNotFound naming the fetch."""
    root = Settings().models_dir / "soprano"
    for name in MODEL_DIRS:
        if (root / name / "model.safetensors").is_file():
            return root / name
    raise ModelNotFound(f"Soprano is not installed (looked in {root}): run {FETCH_HINT}.")


class SopranoTTS:
    """Soprano text-to-speech on one backend (see :data:`BACKENDS`)."""

    name = "soprano"
    sample_rate = SAMPLE_RATE
    languages = ("en",)

    def __init__(self, model_dir: str | Path | None = None, backend: str = "onnxruntime",
                 num_threads: int = 1, decode_beside: bool = False) -> None:
        """``decode_beside``: decode each sentence in 32-token windows on a second thread while
        the LM generates (the same samples as decoding it after). Off by default: it needs a
        free second core; on the shared 2-core bench machine (load average 8) it was slower."""
        if backend not in BACKENDS:
            raise InvalidSetting(f"Soprano backend {backend!r}: use one of {', '.join(BACKENDS)}.")
        if num_threads < 1:
            raise InvalidSetting(f"num_threads={num_threads}: use 1 or more.")
        self.model_dir = check_folder(Path(model_dir) if model_dir else default_model_dir())
        self.backend, self.num_threads, self.decode_beside = backend, num_threads, decode_beside
        self._executor: ThreadPoolExecutor | None = None
        self.tokenizer = load_tokenizer(self.model_dir / "tokenizer.json")
        self.lm_config = lm_config(self.model_dir / "config.json")
        self.lm, self.decoder = self._open(backend)
        text_to_sentences("1.")  # imports inflect now (about a second), not on the first call

    def _open(self, backend: str) -> tuple[Any, Any]:
        if backend == "torch":
            return TorchLM(load_lm(self.model_dir)), TorchDecoder(
                load_decoder(self.model_dir / "decoder.pth"))
        from voxclone.tts.soprano.export import ensure_graphs

        return graph_backend(backend, ensure_graphs(self.model_dir), self.lm_config,
                             self.num_threads)

    def prompts(self, text: str) -> tuple[list[str], list[list[int]]]:
        """Normalised sentences of ``text`` and their prompt ids (at most 512 each)."""
        sentences = text_to_sentences(text)
        if not sentences:
            raise TextError("Nothing to say: the text has no letters or digits Soprano reads.")
        ids = [self.tokenizer.encode(prompt(s)).ids[:MAX_PROMPT_TOKENS] for s in sentences]
        return sentences, ids

    def synthesize(self, text: str, max_new_tokens: int = 512, temperature: float = 0.0,
                   top_p: float = 0.95, repetition_penalty: float = 1.2, top_k: int = 50,
                   seed: int | None = None, token_limits: list[int] | None = None
                   ) -> SopranoResult:
        """Speak ``text``: every sentence in one batch, then the decoder per sentence.

        ``token_limits``: a cap per sentence instead of ``max_new_tokens`` (for benchmarks).
        """
        return self.synthesize_many([text], max_new_tokens, temperature, top_p,
                                    repetition_penalty, top_k, seed, token_limits)[0]

    def synthesize_many(self, texts: list[str], max_new_tokens: int = 512,
                        temperature: float = 0.0, top_p: float = 0.95,
                        repetition_penalty: float = 1.2, top_k: int = 50, seed: int | None = None,
                        token_limits: list[int] | None = None) -> list[SopranoResult]:
        """Speak several texts with all their sentences in one batch (the official
        ``infer_batch``); one result per text, each carrying the whole batch's timings."""
        cfg = GenerationConfig(temperature, top_p, top_k, repetition_penalty, max_new_tokens, seed)
        timer = StageTimer()
        owners, sentences, ids = [], [], []
        for index, text in enumerate(texts):
            text_sentences, text_ids = self.prompts(text)
            owners += [index] * len(text_ids)
            sentences += text_sentences
            ids += text_ids
        if token_limits is not None and len(token_limits) != len(ids):
            raise InvalidSetting(f"token_limits has {len(token_limits)} values for {len(ids)} sentences.")
        if self.decode_beside:
            outputs, pieces = self._generate_and_decode(ids, cfg, timer, token_limits)
        else:
            outputs = generate(self.lm, ids, cfg, timer, token_limits)
            pieces = [self.decode(g.states(), timer) for g in outputs]
        results = []
        for index in range(len(texts)):
            mine = [i for i, owner in enumerate(owners) if owner == index]
            results.append(SopranoResult(
                np.concatenate([pieces[i] for i in mine]), SAMPLE_RATE, [sentences[i] for i in mine],
                [len(outputs[i].tokens) for i in mine], [outputs[i].finish_reason for i in mine],
                timer.ms))
        return results

    def _generate_and_decode(self, ids: list[list[int]], cfg: GenerationConfig, timer: StageTimer,
                             limits: list[int] | None) -> tuple[list[Generated], list[np.ndarray]]:
        """Generation with each sentence decoded beside it on the worker thread."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soprano-decode")
        outputs = [Generated() for _ in ids]
        decoders = [BackgroundDecoder(lambda h: self.decode(h, timer), self._executor)
                    for _ in ids]
        for event in iter_tokens(self.lm, ids, cfg, timer, limits):
            item, decoder = outputs[event.row], decoders[event.row]
            if event.token is None:
                item.finish_reason = event.finish_reason
                decoder.finish()
            else:
                item.tokens.append(event.token)
                item.hidden.append(event.hidden)
                decoder.push(event.hidden)
        with timer.stage("decode_wait"):
            return outputs, [d.audio() for d in decoders]

    def generate_tokens(self, text: str, cfg: GenerationConfig = GenerationConfig(),
                        timer: StageTimer | None = None) -> list[Generated]:
        """The LM's output per sentence (tokens and emitting states), without decoding."""
        return generate(self.lm, self.prompts(text)[1], cfg, timer)

    def decode(self, states: np.ndarray, timer: StageTimer | None = None) -> np.ndarray:
        """(n, H) states of one sentence (or a window of one) → float32 audio (2048·(n-1),)."""
        if len(states) < 2:
            return np.zeros(0, np.float32)
        timer = timer or StageTimer()
        with timer.stage("decoder"):
            spec = self.decoder.spectrum(np.ascontiguousarray(states.T[None], dtype=np.float32))
        with timer.stage("istft"):
            return self.decoder.finish(spec)[0].astype(np.float32)

    def stream(self, text: str, chunk_size: int = 1, max_new_tokens: int = 512,
               temperature: float = 0.0, top_p: float = 0.95, repetition_penalty: float = 1.2,
               top_k: int = 50, seed: int | None = None,
               first_chunk: int | None = None) -> Iterator[SopranoChunk]:
        """Speak ``text`` sentence by sentence as a generator of chunks; the first comes after
        4 + ``first_chunk`` (default ``chunk_size``) tokens, the others every ``chunk_size``
        tokens. Joined, the chunks equal :meth:`synthesize`'s audio (at temperature 0; sampling
        draws differ between one batch and one sentence at a time)."""
        cfg = GenerationConfig(temperature, top_p, top_k, repetition_penalty, max_new_tokens, seed)
        _, ids = self.prompts(text)
        for index, sentence_ids in enumerate(ids):
            states = (e.hidden if e.token is not None else None
                      for e in iter_tokens(self.lm, [sentence_ids], cfg))
            chunks = stream_audio(states, lambda h: self.decode(h), chunk_size,
                                  first_chunk=first_chunk)
            pending = next(chunks, None)
            for chunk in chunks:
                yield SopranoChunk(pending, SAMPLE_RATE, index, False)  # type: ignore[arg-type]
                pending = chunk
            if pending is not None:
                yield SopranoChunk(pending, SAMPLE_RATE, index, True)

    def time_to_first_audio(self, text: str, **kw: Any) -> float:
        """Seconds from the call to the first streamed chunk of ``text``."""
        start = time.perf_counter()
        chunks = self.stream(text, **kw)
        next(chunks)
        elapsed = time.perf_counter() - start
        chunks.close()
        return elapsed

    def voices(self, lang: str | None = None) -> list[BaseVoice]:
        """Soprano has one voice, English."""
        if lang is not None:
            normalize_language(lang, self.languages)
        return [VOICE]

    def default_voice(self, lang: str) -> BaseVoice:
        """The one voice."""
        return self.voices(lang)[0]


class SopranoEngine(SopranoTTS):
    """The ``soprano`` TTSEngine: ``synthesize(text, lang, voice, style)`` → Audio. Soprano has
    no speed or pitch control: only ``style.energy`` (a gain) is applied. :meth:`prefetch`
    lets a pipeline that speaks a text piece by piece generate all pieces in one batch first."""

    def __init__(self, model_dir: str | Path | None = None, backend: str = "onnxruntime",
                 num_threads: int = 1, decode_beside: bool = False) -> None:
        super().__init__(model_dir, backend, num_threads, decode_beside)
        self._prefetched: dict[str, np.ndarray] = {}

    def _check(self, lang: str, voice: str | None, style: Style) -> None:
        normalize_language(lang, self.languages)
        if voice not in (None, VOICE.id):
            raise InvalidSetting(f"Soprano has one voice, 'soprano', not {voice!r}.")
        if style.speed != 1.0 or style.pitch != 0.0:
            raise InvalidSetting("Soprano has no speed or pitch control: leave speed=1, pitch=0.")

    def prefetch(self, texts: list[str], lang: str = "en", voice: str | None = None,
                 style: Style = Style()) -> None:
        """Generate ``texts`` in one batch now; :meth:`synthesize` of each then returns its audio
        (once). Replaces what an earlier prefetch left."""
        self._check(lang, voice, style)
        unique = list(dict.fromkeys(texts))
        results = SopranoTTS.synthesize_many(self, unique)
        self._prefetched = {t: r.audio for t, r in zip(unique, results)}

    def stream_speech(self, text: str, lang: str = "en", voice: str | None = None,
                      style: Style = Style(), first_chunk: int = 2, chunk_size: int = 4
                      ) -> Iterator[np.ndarray]:
        """``text`` as float32 chunks at :attr:`sample_rate`, the first after 4 + ``first_chunk``
        tokens, then every ``chunk_size`` tokens; joined, :meth:`synthesize`'s audio."""
        self._check(lang, voice, style)
        for chunk in SopranoTTS.stream(self, text, chunk_size=chunk_size, first_chunk=first_chunk):
            yield chunk.samples * np.float32(style.energy)

    def synthesize(self, text: str, lang: str = "en", voice: str | None = None,  # type: ignore[override]
                   style: Style = Style(), **kw: Any) -> Audio:
        self._check(lang, voice, style)
        cached = None if kw else self._prefetched.pop(text, None)
        audio = cached if cached is not None else SopranoTTS.synthesize(self, text, **kw).audio
        return Audio(audio * np.float32(style.energy), SAMPLE_RATE)

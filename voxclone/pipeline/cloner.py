"""VoiceCloner: text → speech in a cloned voice (base TTS → tone-colour conversion → post)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from voxclone.asr.types import Word
from voxclone.audio.dsp import apply_gain_db, match_loudness, resample
from voxclone.audio.speaker import cosine, speaker_encoder
from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.convert.base import Converter, ConvertSettings, Features, get_converter
from voxclone.errors import EngineUnavailable, InvalidSetting, ReferenceTooShort
from voxclone.pipeline.basevoice import rank_base_voices
from voxclone.pipeline.config import PipelineConfig
from voxclone.pipeline.source_tone import base_voice_features
from voxclone.pipeline.stream_post import StreamPost
from voxclone.pipeline.voice import ReferenceClips, VoiceRef, reference_clips, resolve_profile
from voxclone.provenance.hook import mark
from voxclone.provenance.record import voice_id as clips_id
from voxclone.text.languages import normalize_language
from voxclone.text.split import split_text
from voxclone.timing import StageTimer
from voxclone.tts.base import Style, TTSEngine, WordTiming, get_tts
from voxclone.voices.profile import VoiceProfile, audio_sha256
from voxclone.voices.store import VoiceLibrary

if TYPE_CHECKING:
    from voxclone.pipeline.kokoro_clone import StyleSearchResult

log = logging.getLogger(__name__)
PIECE_GAP_S = 0.25
PROFILE_CONVERTER = "world"
UNADAPTED = "world"
"""What speaks for ``adapted`` where a voice has no map: its own WORLD map, without the map."""


def converter_used(asked: str, spoke: str) -> dict[str, str]:
    """``{"converter_used": spoke}`` for an output's settings where another converter than the
    one asked for spoke (``adapted`` before the voice has its map), else nothing."""
    return {} if spoke in ("", "none", asked) else {"converter_used": spoke}


@dataclass
class SayResult:
    """Output of :meth:`VoiceCloner.synthesize`.

    audio: the stitched output; pieces: one Audio per text piece; base_voice: the base voice used;
    candidates: (base voice, similarity to the target) of every candidate tried;
    timings_ms: per-stage milliseconds; rtf: processing time / output duration;
    outputs: the stitched output of every candidate, in the order of ``candidates`` (just
    ``[audio]`` when one base voice spoke); voice_id: hash of the voice's clips (provenance);
    words: with ``timestamps``, every word of the text with its start/end in seconds of
    ``audio``; piece_words: the same per piece, in seconds of that piece; timing: what the
    times come from (see :mod:`voxclone.pipeline.captions`); converter: the converter that
    spoke (``world`` where ``adapted`` had no map yet: see :meth:`VoiceCloner.adapt`).
    """

    audio: Audio
    pieces: list[Audio]
    base_voice: str
    candidates: list[tuple[str, float]] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    rtf: float = 0.0
    outputs: list[Audio] = field(default_factory=list)
    voice_id: str = ""
    words: list[Word] = field(default_factory=list)
    piece_words: list[list[Word]] = field(default_factory=list)
    timing: str = ""
    converter: str = ""


@dataclass(frozen=True)
class SpeechChunk:
    """One streamed piece: its audio (after the first, led by the pause between pieces), its
    words in seconds from the start of the whole output, and what the times come from."""

    audio: Audio
    words: tuple[Word, ...]
    timing: str


class VoiceCloner:
    """Zero-shot cloning TTS: ``VoiceCloner().say("Hello", voice="alice")``."""

    def __init__(self, config: PipelineConfig = PipelineConfig(), library: VoiceLibrary | None = None,
                 settings: Settings | None = None) -> None:
        self.config = config
        self.settings = settings or Settings()
        self.library = library or VoiceLibrary(self.settings)
        self.tts: TTSEngine = get_tts(config.tts)
        self.converter: Converter | None = (None if config.converter == "none"
                                            else get_converter(config.converter))
        self._styles: dict[str, np.ndarray] = {}  # Kokoro style id → table (510, 1, 256)
        self._shared_styles: set[str] = set()  # ids of start styles (not one voice's own)
        self._rate_factors: dict[tuple, float] = {}  # (base voice, lang, clips) → speed factor
        self._adaptations: dict[tuple, Features] = {}  # (base voice, clips) → frame map
        self._unadapted: Converter | None = None  # adapted's WORLD map, until a voice has its own
        self.spoke_with = config.converter
        """The converter the latest call spoke with (its ``adapted`` may speak ``world``)."""
        self.overlap_pieces = True
        """Speak the next pieces while converting this one (False: one after the other, the
        same audio; for measurement)."""

    def profile(self, voice: VoiceRef) -> VoiceProfile:
        """The profile of ``voice`` (library name, reference files or profile)."""
        return resolve_profile(voice, self._profile_converter(), self.library)

    def say(self, text: str, voice: VoiceRef, lang: str = "en", style: Style = Style(),
            **options: object) -> Audio:
        """``text`` spoken in ``voice``; options as :meth:`synthesize`."""
        return self.synthesize(text, voice, lang, style, **options).audio  # type: ignore[arg-type]

    def speak_plain(self, text: str, lang: str = "en", style: Style = Style(),
                    base_voice: str | None = None, split: str | None = None,
                    timestamps: bool = False, seed: int | None = None) -> SayResult:
        """``text`` in the base engine's own voice (``base_voice``, default its first voice of
        ``lang``), nothing cloned: only the post stage (loudness, output rate, watermark).
        ``timestamps``: also time every word (:attr:`SayResult.words`); ``seed``: as
        :meth:`synthesize`'s."""
        return self._speak_plain(text, lang, style, base_voice, split, timestamps, self._seeded(seed))

    def _speak_plain(self, text: str, lang: str, style: Style, base_voice: str | None,
                     split: str | None, timestamps: bool, tts: TTSEngine) -> SayResult:
        """:meth:`speak_plain` spoken by ``tts`` (the cloner's engine or a seeded view of it)."""
        if self.converter is not None:
            raise InvalidSetting("Speaking without a voice clones nothing: use --converter none "
                                 "(the default without --voice/--ref), or give --voice/--ref.")
        start, timer = time.perf_counter(), StageTimer()
        lang, voice_id = self.plain_voice(lang, base_voice)
        pieces = []
        pieces_text = split_text(text, split)
        for piece in pieces_text:
            with timer.stage("tts"):
                audio = self._base_speech(piece, lang, voice_id, style, tts)
            with timer.stage("post"):
                pieces.append(self._post(audio, style))
        audio = Audio.concat(pieces, PIECE_GAP_S)
        result = SayResult(audio, pieces, voice_id, [], timer.ms, 0.0, [audio], "",
                           converter="none")
        if timestamps:
            with timer.stage("captions"):
                self._add_words(result, pieces_text, lang, style)
        result.rtf = (time.perf_counter() - start) / max(audio.duration, 1e-6)
        return result

    def stream_plain(self, text: str, lang: str = "en", style: Style = Style(),
                     base_voice: str | None = None, split: str | None = None,
                     seed: int | None = None) -> Iterator[Audio]:
        """Stream :meth:`speak_plain`: engines that stream (Soprano) yield sub-sentence chunks
        (the first after a few tokens) through a streaming post stage (running level, not the
        per-piece normalisation); the others one chunk per piece. Pieces after the first start
        with the inter-piece pause, as in :meth:`say_stream`. ``seed``: as :meth:`synthesize`'s."""
        if self.converter is not None:
            raise InvalidSetting("Streaming without a voice clones nothing: use --converter none.")
        lang, voice_id = self.plain_voice(lang, base_voice)
        tts = self._seeded(seed)
        stream = getattr(tts, "stream_speech", None)
        post: StreamPost | None = None
        rate = self.config.output_sample_rate or self.tts.sample_rate
        for i, piece in enumerate(split_text(text, split)):
            if i:
                yield Audio(np.zeros(int(PIECE_GAP_S * rate), np.float32), rate)
            if stream is None:
                yield self._post(self._base_speech(piece, lang, voice_id, style, tts), style)
                continue
            post = StreamPost(self.tts.sample_rate, self.config, style, after=post)
            for chunk in stream(piece, lang, voice_id, style):
                out = post.push(chunk)
                if len(out):
                    yield out
            tail = post.finish()
            if len(tail):
                yield tail

    def plain_voice(self, lang: str, base_voice: str | None) -> tuple[str, str]:
        """(language, base voice id) for speaking in the engine's own voice; InvalidSetting names
        the voices there are (and how to fetch one that is missing)."""
        lang = normalize_language(lang, self.tts.languages)
        known = [v.id for v in self.tts.voices(lang)]
        if base_voice and base_voice not in known:
            raise InvalidSetting(f"Unknown base voice '{base_voice}' for {self.tts.name}/{lang}. "
                                 f"Choose one of: {', '.join(sorted(known))}"
                                 f"{_fetch_hint(self.tts.name, base_voice)}.")
        if not known:
            raise InvalidSetting(f"{self.tts.name} has no voice for '{lang}': see `voxclone engines`.")
        return lang, base_voice or known[0]

    def synthesize(self, text: str, voice: VoiceRef, lang: str = "en", style: Style = Style(),
                   base_voice: str | None = None, candidates: int = 1, split: str | None = None,
                   seed: int | None = None, progress: bool = False,
                   timestamps: bool = False) -> SayResult:
        """Speak ``text`` in ``voice`` and report how.

        Long text is split on ``split`` (or at sentences) and stitched. With ``candidates`` > 1
        the best-ranked base voices each speak the text and the output closest to the target
        (speaker encoder) is kept. ``seed`` makes engines that sample repeat (the same seed,
        text and settings give the same speech; see ``TTSEngine``), the others always do;
        ``progress`` shows a progress bar over the pieces on a terminal; ``timestamps`` also
        times every word of the kept output (:attr:`SayResult.words`).
        """
        start = time.perf_counter()
        timer = StageTimer()
        lang = normalize_language(lang, self.tts.languages)
        pieces_text = split_text(text, split)
        profile, voices = self._profile_and_voices(voice, lang, base_voice, candidates, progress,
                                                   timer)
        jobs = [(v, t) for v in voices for t in pieces_text]
        bar = tqdm(total=len(jobs), desc="say", unit="piece", disable=not progress or None)
        results: list[tuple[str, list[Audio]]] = []
        prefetch = getattr(self.tts, "prefetch", None)  # engines that batch pieces (soprano)
        paced: dict[str, Style] = {}
        spoke: dict[str, str] = {}  # base voice → the converter that spoke
        for voice_id in voices:
            pieces = []
            with timer.stage("rate"):
                paced[voice_id] = self._paced(style, voice, profile, lang, voice_id)
            with timer.stage("adaptation"):
                target = self._adapted(voice, profile, lang, voice_id)
                spoke[voice_id] = self._spoken_by(target)
            if prefetch is not None and voice_id not in self._styles:
                with timer.stage("tts"):
                    prefetch(pieces_text, lang, voice_id, paced[voice_id])
            for audio in self._speak_pieces(pieces_text, lang, voice_id, paced[voice_id], target,
                                            timer, self._seeded(seed)):
                pieces.append(audio)
                bar.update()
            results.append((voice_id, pieces))
        bar.close()
        best, scored = self._pick(results, profile, timer)
        voice_id, pieces = results[best]
        audio = Audio.concat(pieces, PIECE_GAP_S)
        outputs = [Audio.concat(p, PIECE_GAP_S) for _, p in results] if scored else [audio]
        self.spoke_with = spoke[voice_id]
        result = SayResult(audio, pieces, voice_id, scored, timer.ms, 0.0, outputs,
                           clips_id(profile.clip_hashes), converter=spoke[voice_id])
        if timestamps:
            with timer.stage("captions"):
                self._add_words(result, pieces_text, lang, paced[voice_id])
        result.rtf = (time.perf_counter() - start) / max(audio.duration, 1e-6)
        return result

    def iter_pieces(self, text: str, voice: VoiceRef, lang: str = "en", style: Style = Style(),
                    base_voice: str | None = None, split: str | None = None,
                    seed: int | None = None) -> Iterator[Audio]:
        """Yield each piece as soon as it has gone through TTS and conversion (``seed``: as
        :meth:`synthesize`'s)."""
        lang = normalize_language(lang, self.tts.languages)
        pieces_text = split_text(text, split)
        profile, voices = self._profile_and_voices(voice, lang, base_voice, 1, False, StageTimer())
        voice_id = voices[0]
        style = self._paced(style, voice, profile, lang, voice_id)
        target = self._adapted(voice, profile, lang, voice_id)
        self.spoke_with = self._spoken_by(target)
        yield from self._speak_pieces(pieces_text, lang, voice_id, style, target, StageTimer(),
                                      self._seeded(seed))

    def say_stream(self, text: str, voice: VoiceRef, lang: str = "en", style: Style = Style(),
                   base_voice: str | None = None, split: str | None = None,
                   seed: int | None = None) -> Iterator[Audio]:
        """Stream ``text`` in ``voice``: one chunk per sentence (or ``split`` piece) as soon as it
        is ready; chunks after the first start with the inter-piece pause, so their concatenation
        equals :meth:`say` with the same arguments."""
        for i, piece in enumerate(self.iter_pieces(text, voice, lang, style, base_voice, split, seed)):
            if i:
                gap = np.zeros(int(PIECE_GAP_S * piece.sample_rate), dtype=np.float32)
                piece = Audio(np.concatenate([gap, piece.samples]), piece.sample_rate)
            yield piece

    def say_stream_captioned(self, text: str, voice: VoiceRef, lang: str = "en",
                             style: Style = Style(), base_voice: str | None = None,
                             split: str | None = None, seed: int | None = None
                             ) -> Iterator[SpeechChunk]:
        """:meth:`say_stream` with each chunk's words (times from the start of the output)."""
        from voxclone.pipeline.captions import piece_words, shift

        lang = normalize_language(lang, self.tts.languages)
        profile = self.profile(voice)
        voice_id = self._candidate_voices(profile, lang, base_voice, 1, voice)[0]
        start = 0.0
        chunks = self.say_stream(text, voice, lang, style, voice_id, split, seed)
        style = self._paced(style, voice, profile, lang, voice_id)  # as say_stream speaks
        for i, (piece_text, chunk) in enumerate(zip(split_text(text, split), chunks)):
            gap = int(PIECE_GAP_S * chunk.sample_rate) if i else 0
            piece = Audio(chunk.samples[gap:], chunk.sample_rate)
            start += gap / chunk.sample_rate
            words, source = piece_words(piece_text, lang, piece,
                                        self._engine_timing(piece_text, lang, voice_id, style))
            yield SpeechChunk(chunk, tuple(shift(words, start)), source)
            start += piece.duration

    def stream_plain_captioned(self, text: str, lang: str = "en", style: Style = Style(),
                               base_voice: str | None = None, split: str | None = None,
                               seed: int | None = None) -> Iterator[SpeechChunk]:
        """:meth:`speak_plain` streamed one piece per chunk with its words (times from the start
        of the output); after the first, each chunk starts with the pause between pieces."""
        from voxclone.pipeline.captions import shift

        lang, voice_id = self.plain_voice(lang, base_voice)
        tts = self._seeded(seed)  # one view for all pieces: they draw on as in speak_plain
        start = 0.0
        for i, piece_text in enumerate(split_text(text, split)):
            result = self._speak_plain(piece_text, lang, style, voice_id, split, True, tts)
            audio = result.audio
            if i:
                gap = np.zeros(int(PIECE_GAP_S * audio.sample_rate), np.float32)
                start += PIECE_GAP_S
                audio = Audio(np.concatenate([gap, audio.samples]), audio.sample_rate)
            yield SpeechChunk(audio, tuple(shift(result.words, start)), result.timing)
            start += result.audio.duration

    def _add_words(self, result: SayResult, texts: list[str], lang: str, style: Style) -> None:
        """Fill ``result``'s words: per piece, then joined as the pieces are."""
        from voxclone.pipeline.captions import join_pieces, piece_words

        sources = []
        for text, piece in zip(texts, result.pieces):
            timing = self._engine_timing(text, lang, result.base_voice, style)
            words, source = piece_words(text, lang, piece, timing)
            result.piece_words.append(words)
            sources.append(source)
        result.words = join_pieces(result.piece_words, result.pieces, PIECE_GAP_S)
        result.timing = ", ".join(dict.fromkeys(sources))

    def _engine_timing(self, text: str, lang: str, voice_id: str, style: Style) -> WordTiming | None:
        """The base engine's own word times for ``text`` as :meth:`_base_speech` speaks it, or
        None where the engine has none."""
        timing = getattr(self.tts, "word_timing", None)
        if timing is None:
            return None
        table = self._styles.get(voice_id)
        try:
            if table is None:
                return timing(text, lang, voice_id, style)
            return timing(text, lang, style=style, style_table=table)
        except EngineUnavailable as exc:
            log.info("no word times from %s (%s): aligning with ASR", self.tts.name, exc)
            return None

    def _profile_and_voices(self, voice: VoiceRef, lang: str, base_voice: str | None,
                            candidates: int, progress: bool,
                            timer: StageTimer) -> tuple[VoiceProfile, list[str]]:
        """The voice's profile and its base voice(s). A Kokoro style comes from the clips, not
        the profile, so for a new voice the two are found side by side (WORLD analysis on a
        second thread while Kokoro speaks the start style's trials)."""
        if self.config.tts != "kokoro" or base_voice:
            with timer.stage("profile"):
                profile = self.profile(voice)
            with timer.stage("base_voice"):
                return profile, self._candidate_voices(profile, lang, base_voice, candidates,
                                                       voice, progress)
        with ThreadPoolExecutor(1, thread_name_prefix="voxclone-profile") as pool:
            pending = pool.submit(self.profile, voice)
            try:
                with timer.stage("base_voice"):
                    voices = [self._kokoro_style(voice, progress)]
            finally:
                with timer.stage("profile"):
                    profile = pending.result()
        return profile, voices

    def _profile_converter(self) -> Converter:
        return self.converter or get_converter(PROFILE_CONVERTER)

    def _candidate_voices(self, profile: VoiceProfile, lang: str, base_voice: str | None,
                          candidates: int, voice: VoiceRef | None = None,
                          progress: bool = False) -> list[str]:
        if self.config.tts == "kokoro" and not base_voice:
            return [self._kokoro_style(profile if voice is None else voice, progress)]
        if getattr(self.tts, "needs_reference", False) and not base_voice:
            return [self._codec_lm_reference(voice, lang)]
        if base_voice in self._styles:
            return [base_voice]  # type: ignore[list-item]
        if base_voice:
            known = {v.id for v in self.tts.voices(lang)}
            if base_voice not in known:
                raise InvalidSetting(f"Unknown base voice '{base_voice}' for {self.tts.name}/{lang}. "
                                     f"Choose one of: {', '.join(sorted(known))}"
                                     f"{_fetch_hint(self.tts.name, base_voice)}.")
            return [base_voice]
        ranked = rank_base_voices(self.tts, self.converter, profile, lang, self.settings.cache_dir,
                                  self.config.base_voice_pool)
        n = max(1, min(candidates, self.config.base_voice_pool, len(ranked)))
        return [r.voice for r in ranked[:n]]

    def kokoro_style(self, voice: VoiceRef, progress: bool = False) -> tuple[str, np.ndarray]:
        """The Kokoro style found for ``voice`` (searched once, then cached): its id, to pass as
        ``base_voice``, and its table (510, 1, 256)."""
        style_id = self._kokoro_style(voice, progress)
        return style_id, self._styles[style_id]

    def add_style(self, table: np.ndarray) -> str:
        """Register a Kokoro style table (510, 1, 256); returns the id to pass as ``base_voice``."""
        table = np.asarray(table, dtype=np.float32)
        if table.shape != (510, 1, 256) or not np.isfinite(table).all():
            raise InvalidSetting(f"A Kokoro style table is (510, 1, 256) finite values, not {table.shape}.")
        style_id = f"style:{hashlib.sha256(table.tobytes()).hexdigest()[:12]}"
        self._styles[style_id] = table
        return style_id

    def _kokoro_style(self, voice: VoiceRef, progress: bool = False) -> str:
        """The Kokoro style of ``voice`` (see :meth:`style_stage`); returns its style id."""
        result = self._kokoro_result(voice, progress, self.config.search_first)
        style_id = self.add_style(result.table)
        if result.stage == "start":  # a bundled voice or blend: other voices speak with it too
            self._shared_styles.add(style_id)
        return style_id

    def _kokoro_result(self, voice: VoiceRef, progress: bool, search_first: bool):
        """The cached or found style: refined, else (unless ``search_first``) the start style."""
        from voxclone.pipeline import style_cache

        clips, name = self._style_voice(voice)
        config, tts, settings = self._search_config(), self.tts, self.settings
        if search_first:
            log.info("finding the Kokoro style of %s (once per voice, then cached)", voice)
            if name:
                return style_cache.cached_style(self.library, name, config, tts, settings, progress)  # type: ignore[arg-type]
            return style_cache.cached_search(clips, config, tts, settings, progress)  # type: ignore[arg-type]
        if name:
            return style_cache.voice_style(self.library, name, config, tts, settings)  # type: ignore[arg-type]
        return style_cache.search_voice_style(clips, config, tts, settings)  # type: ignore[arg-type]

    def style_stage(self, voice: VoiceRef) -> str | None:
        """Which Kokoro style ``voice`` speaks with now: "refined" (the full search's), "start"
        (the closest bundled voice or blend, found in seconds) or None (none yet: the next
        call finds one, or with ``search_first`` runs the full search)."""
        from voxclone.pipeline import style_cache

        clips, name = self._style_voice(voice)
        hashes = ([c.sha256 for c in self.library.info(name).clips] if name
                  else [audio_sha256(c) for c in clips])
        found = style_cache.cached_stage(hashes, self._search_config(), self.tts, self.settings)  # type: ignore[arg-type]
        return None if found is None else found.stage

    def prepare(self, voice: VoiceRef, background: bool = False,
                progress: bool = False) -> "Future[StyleSearchResult | None]":
        """Refine the Kokoro style of ``voice`` now: the full style search (about 90 s on 2 cores
        at the standard effort), cached, so that later calls speak with it instead of the start
        style. With the ``adapted`` converter it then learns the voice's map for the refined
        style (about 50 s more). With ``background`` it runs on a daemon thread and this returns
        at once. The future holds the refined :class:`StyleSearchResult`; None for engines other
        than Kokoro."""
        future: Future[StyleSearchResult | None] = Future()

        def run() -> None:
            try:
                if self.config.tts != "kokoro":
                    future.set_result(None)
                    return
                self._kokoro_result(voice, False, False)  # the start style first: speak at once
                refined = self._kokoro_result(voice, progress, True)
                if getattr(self.converter, "adapts_to_base_voice", False):
                    self._adapt_refined(voice)
                future.set_result(refined)
            except BaseException as exc:  # noqa: BLE001 - handed to the future's owner
                log.warning("refining the Kokoro style of %s failed: %s", voice, exc)
                future.set_exception(exc)

        if background:
            threading.Thread(target=run, name="voxclone-prepare", daemon=True).start()
        else:
            run()
            future.result()  # raise here, in the caller's thread
        return future

    def _style_voice(self, voice: VoiceRef) -> tuple[list[Audio], str | None]:
        """(clips, None) for reference files, ([], name) for a library voice."""
        if isinstance(voice, VoiceProfile):
            raise InvalidSetting("Kokoro cloning searches a style from the voice's clips: pass a "
                                 "library voice name or reference files, not a built profile.")
        if isinstance(voice, str):
            return [], voice
        return reference_clips(voice), None

    def _clips_of(self, voice: VoiceRef) -> list[Audio]:
        """The clips of a library voice or of reference files (not of a built profile)."""
        clips, name = self._style_voice(voice)
        return clips or self.library.clips(name)  # type: ignore[arg-type]

    def _search_config(self):
        """The style search's config at this pipeline's effort (or fixed step count)."""
        from voxclone.pipeline.kokoro_clone import StyleSearchConfig

        if self.config.search_steps:
            return StyleSearchConfig(effort=1.0, budget_s=1e9, max_steps=self.config.search_steps)
        return StyleSearchConfig(effort=self.config.effort)

    def _codec_lm_reference(self, voice: VoiceRef | None, lang: str) -> str:
        """Register the voice's first clip and its transcript (offline ASR) as the codec-LM prompt."""
        from voxclone.audio.io import load

        if isinstance(voice, str):
            clip = self.library.clips(voice)[0]
        elif isinstance(voice, ReferenceClips):
            clip = voice.clips[0]
        elif voice is not None and not isinstance(voice, VoiceProfile):
            clip = load(list(voice)[0])
        else:
            raise InvalidSetting("codec-lm needs a library voice name or reference files.")
        from voxclone.asr import transcribe

        clip = clip.slice(0, 6.0) if clip.duration > 6.0 else clip
        return self.tts.add_reference(clip, transcribe(clip, lang).text)  # type: ignore[attr-defined]

    def _speak_pieces(self, texts: list[str], lang: str, voice_id: str, style: Style,
                      profile: VoiceProfile, timer: StageTimer,
                      tts: TTSEngine | None = None) -> Iterator[Audio]:
        """Each text spoken, converted and post-processed, in order. The base TTS of the next
        pieces (as many at once as the engine has ``workers``, else one) and, the first time,
        world-auto's choice of strength run on other threads while this piece is converted
        (ONNX Runtime and WORLD release the GIL); each piece is the same as when spoken alone.
        ``tts``: the engine that speaks (default the cloner's; a seeded one of :meth:`_seeded`)."""
        def speak(text: str) -> Audio:
            with timer.stage("tts"):
                return self._base_speech(text, lang, voice_id, style, tts)

        settings = self._convert_settings(style)
        if not self.overlap_pieces:
            fraction = (self._voice_fraction(voice_id, lang, profile, settings, timer)
                        if self._per_voice_strength() and texts else None)
            for text in texts:
                yield self._convert_piece(speak(text), lang, voice_id, style, profile, settings,
                                          timer, fraction)
            return
        ahead = max(1, int(getattr(self.tts, "workers", 1)))
        with ThreadPoolExecutor(ahead + 1, thread_name_prefix="voxclone-piece") as pool:
            fraction: Future[float] | None = None
            if self._per_voice_strength():
                known = self._voice_fraction(voice_id, lang, profile, settings, timer, False)
                fraction = (pool.submit(self._voice_fraction, voice_id, lang, profile, settings,
                                        timer) if known is None else _done(known))
            # While a new voice's strength is being chosen, one piece at a time: the choice's
            # speech and syntheses fill the cores, and more TTS beside them delays the first audio.
            def room() -> int:
                return ahead if fraction is None or fraction.done() else 1

            pending = deque(pool.submit(speak, t) for t in texts[:room()])
            queued = len(pending)
            for _ in range(len(texts)):
                audio = pending.popleft().result()
                while queued < len(texts) and len(pending) < room():
                    pending.append(pool.submit(speak, texts[queued]))
                    queued += 1
                yield self._convert_piece(audio, lang, voice_id, style, profile, settings, timer,
                                          None if fraction is None else fraction.result())

    def _paced(self, style: Style, voice: VoiceRef, profile: VoiceProfile, lang: str,
               voice_id: str) -> Style:
        """``style`` at the voice's own pace (``match_rate``): its speed times the voice's
        speaking rate over the base voice's, measured once each and cached."""
        if not self.config.match_rate:
            return style
        from dataclasses import replace as with_fields

        from voxclone.pipeline import speaking_rate
        from voxclone.pipeline.strength import calibration_text

        key = (voice_id, lang, tuple(sorted(profile.clip_hashes)))
        if key not in self._rate_factors:
            if isinstance(voice, VoiceProfile):
                log.info("no speaking rate for a built profile (its clips are not at hand)")
                return style
            target = speaking_rate.voice_rate(self._clips_of(voice), profile.clip_hashes, lang,
                                              self.settings.cache_dir)
            base = speaking_rate.rate([(self._calibration_speech(voice_id, lang),
                                        calibration_text(lang))], lang)
            self._rate_factors[key] = speaking_rate.speed_factor(target, base)
            log.info("speaking rate: voice %.2f, base voice %.2f syllables/s: speed x%.2f",
                     target, base, self._rate_factors[key])
        factor = self._rate_factors[key]
        return with_fields(style, speed=float(np.clip(style.speed * factor, 0.5, 2.0)))

    def adapt(self, voice: VoiceRef, lang: str = "en", base_voice: str | None = None,
              progress: bool = False) -> dict[str, object]:
        """Learn (or read from the cache) ``voice``'s frame map for the base voice it speaks
        ``lang`` with (the ``adapted`` converter's per-voice model, learned from the clips in
        their own language and used for every language); returns what was used."""
        if not getattr(self.converter, "adapts_to_base_voice", False):
            raise InvalidSetting(f"The {self.config.converter} converter learns nothing per base "
                                 "voice: adapt with converter 'adapted'.")
        lang = normalize_language(lang, self.tts.languages)
        profile, voices = self._profile_and_voices(voice, lang, base_voice, 1, progress, StageTimer())
        features = self._adapted(voice, profile, lang, voices[0], learn=True).features
        return {"tts": self.tts.name, "base_voice": voices[0],
                "frames": features["adaptation_frames"],
                "seconds": features.get("adaptation_seconds")}

    def _adapt_refined(self, voice: VoiceRef) -> None:
        """:meth:`adapt` for the refined style; with ``staged_adaptation`` a voice too short to
        learn a map is left without one (WORLD's map speaks) instead of failing the preparation."""
        try:
            self.adapt(voice)
        except ReferenceTooShort as exc:
            if not self.config.staged_adaptation:
                raise
            _no_adaptation(voice, exc)

    def _adapted(self, voice: VoiceRef, profile: VoiceProfile, lang: str,
                 voice_id: str, learn: bool = False) -> VoiceProfile:
        """``profile`` with the voice's frame map for base voice ``voice_id`` added to its
        features, for converters that take one (learned once per voice and base voice, then
        cached); otherwise ``profile`` itself. With ``staged_adaptation`` a Kokoro voice still
        speaking with its start style gets no map unless ``learn`` or ``search_first`` (the map
        is learned for the refined style, :meth:`prepare`), nor does a voice too short to learn
        one; WORLD's map then speaks (:meth:`_spoken_by`)."""
        if not getattr(self.converter, "adapts_to_base_voice", False):
            return profile
        from dataclasses import replace as with_fields

        from voxclone.pipeline.adapt import voice_adaptation

        key = (voice_id, tuple(sorted(profile.clip_hashes)))
        staged = self.config.staged_adaptation and not learn
        if (key not in self._adaptations and staged and voice_id in self._shared_styles
                and not self.config.search_first):
            log.info("%s speaks with its start style: WORLD's map until `voxclone voices "
                     "prepare` refines the style and learns its adaptation", voice)
            return profile
        if key not in self._adaptations:
            if isinstance(voice, VoiceProfile):
                raise InvalidSetting("The adapted converter learns from the voice's clips: pass a "
                                     "library voice name or reference files, not a built profile.")
            try:
                self._adaptations[key] = voice_adaptation(
                    self.converter, self.tts.name, voice_id, self._clips_of(voice),  # type: ignore[arg-type]
                    profile.clip_hashes,
                    lambda text, lang: self._base_speech(text, lang, voice_id, Style()),
                    self.tts.languages, self.settings.cache_dir)
            except ReferenceTooShort as exc:
                if not staged:
                    raise
                _no_adaptation(voice, exc)
                return profile
        return with_fields(profile, features={**profile.features, **self._adaptations[key]})

    def _calibration_speech(self, voice_id: str, lang: str) -> Audio:
        """The calibration text spoken by the base voice at its own pace (kept on disk for a
        shared base voice, see :func:`voxclone.pipeline.strength.calibration_speech`)."""
        from voxclone.pipeline.strength import calibration_speech

        return calibration_speech(self.tts.name, voice_id, lang, self._plain_speaker(voice_id, lang),
                                  self.settings.cache_dir if self._shared(voice_id) else None)

    def _shared(self, voice_id: str) -> bool:
        """Whether other voices speak with base voice ``voice_id`` too: an engine's own voice or
        a Kokoro start style, not a voice's refined style."""
        return voice_id not in self._styles or voice_id in self._shared_styles

    def _plain_speaker(self, voice_id: str, lang: str) -> Callable[[str], Audio]:
        """text → the base voice speaking it in ``lang`` at its own pace (no user style)."""
        return lambda text: self._base_speech(text, lang, voice_id, Style())

    def _convert_settings(self, style: Style) -> ConvertSettings:
        keeps_pitch = getattr(self.converter, "keeps_source_pitch", False)
        return ConvertSettings(strength=self.config.strength,
                               pitch_shift=0.0 if keeps_pitch else style.pitch,
                               energy=style.energy, f0_method="dio")

    def _per_voice_strength(self) -> bool:
        """Whether the converter's strength is chosen once per voice (world-auto, "voice")."""
        return (self.config.strength_choice == "voice"
                and getattr(self.converter, "convert_at", None) is not None)

    def _convert_piece(self, audio: Audio, lang: str, voice_id: str, style: Style,
                       profile: VoiceProfile, settings: ConvertSettings, timer: StageTimer,
                       fraction: float | None = None) -> Audio:
        """One piece of base speech through the converter (at ``fraction`` of the strength
        where it was chosen per voice) and the post stage."""
        if self.converter is not None:
            source = self._source_features(voice_id, lang, timer)
            if fraction is not None:
                audio = self.converter.convert_at(audio, profile.features, fraction,  # type: ignore[attr-defined]
                                                  settings, source, timer)
            else:
                audio = self._speaking_converter(profile).convert(
                    audio, profile.features, settings, source=source, timer=timer)
        with timer.stage("post"):
            return self._post(audio, style)

    def _spoken_by(self, profile: VoiceProfile) -> str:
        """The name of the converter that speaks for ``profile`` (see :meth:`_speaking_converter`)."""
        if self.converter is None:
            return "none"
        return (self.config.converter if self._speaking_converter(profile) is self.converter
                else UNADAPTED)

    def _speaking_converter(self, profile: VoiceProfile) -> Converter:
        """The pipeline's converter, or for ``adapted`` without the voice's map its WORLD map."""
        assert self.converter is not None
        if (not getattr(self.converter, "adapts_to_base_voice", False)
                or "adaptation" in profile.features):
            return self.converter
        if self._unadapted is None:
            from voxclone.convert.world import WorldConverter

            self._unadapted = WorldConverter(self.converter.config)  # type: ignore[attr-defined]
        return self._unadapted

    def _voice_fraction(self, voice_id: str, lang: str, profile: VoiceProfile,
                        settings: ConvertSettings, timer: StageTimer,
                        compute: bool = True) -> float | None:
        """world-auto's strength for this voice and base voice (chosen once, then cached;
        without ``compute`` only read: None when not chosen yet)."""
        from voxclone.pipeline.strength import voice_fraction

        speak = self._plain_speaker(voice_id, lang) if compute else None
        with timer.stage("strength"):
            return voice_fraction(self.converter, self.tts.name, voice_id, lang, profile.features,
                                  settings, speak, self.settings.cache_dir, self._shared(voice_id))

    def _source_features(self, voice_id: str, lang: str, timer: StageTimer):
        """The base voice's own converter features, for converters that take them (cached)."""
        if not getattr(self.converter, "source_from_base_voice", False):
            return None
        with timer.stage("source"):
            return base_voice_features(self.converter, self.tts.name, voice_id, lang,
                                       self._plain_speaker(voice_id, lang), self.settings.cache_dir)

    def _base_speech(self, text: str, lang: str, voice_id: str, style: Style,
                     tts: TTSEngine | None = None) -> Audio:
        """The base TTS (``tts``, default the cloner's) speaking ``text`` with a voice, or with
        a registered Kokoro style."""
        tts = tts or self.tts
        table = self._styles.get(voice_id)
        if table is None:
            return tts.synthesize(text, lang, voice_id, style)
        return tts.synthesize(text, lang, style=style, style_table=table)  # type: ignore[call-arg]

    def _seeded(self, seed: int | None) -> TTSEngine:
        """The engine that speaks a call with ``seed``: for an engine that samples (``seeded``:
        piper, codec-lm), a view of it whose draws start from the seed, else the engine."""
        seeded = getattr(self.tts, "seeded", None)
        return seeded(seed) if seeded is not None and seed is not None else self.tts

    def _post(self, audio: Audio, style: Style) -> Audio:
        if self.config.output_sample_rate:
            audio = resample(audio, self.config.output_sample_rate)
        audio = match_loudness(audio, self.config.loudness_db)
        if style.energy != 1.0:
            audio = apply_gain_db(audio, 6.0 * np.log2(style.energy))
        return mark(audio) if self.config.watermark else audio

    def _pick(self, results: list[tuple[str, list[Audio]]], profile: VoiceProfile,
              timer: StageTimer) -> tuple[int, list[tuple[str, float]]]:
        if len(results) == 1:
            return 0, []
        with timer.stage("scoring"):
            encoder = speaker_encoder()
            scores = [(v, cosine(encoder.embed(Audio.concat(p)), profile.embedding_array))
                      for v, p in results]
        best = int(np.argmax([s for _, s in scores]))
        log.info("candidates: %s", scores)
        return best, scores


def _fetch_hint(engine: str, voice: str) -> str:
    """How to get a base voice that is not installed, where the engine can fetch voices."""
    if engine == "piper":
        return f"; or fetch it on a connected machine: `voxclone models fetch piper:{voice}`"
    if engine == "kokoro":
        return "; the full Kokoro voice set comes with `voxclone models fetch kokoro`"
    return ""


def _done(value: float) -> Future[float]:
    """A future that already holds ``value``."""
    future: Future[float] = Future()
    future.set_result(value)
    return future


def _no_adaptation(voice: VoiceRef, exc: Exception) -> None:
    """Log that ``voice`` gets no frame map (``exc`` says why) and WORLD's map speaks."""
    log.warning("%s: no adaptation (%s); WORLD's map speaks", voice, exc)

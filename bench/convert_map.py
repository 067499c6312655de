"""A voice's frame map for *converting* anyone's speech, measured against ``vc:world``.

``adapted`` learns a map from one base TTS voice's frames to the voice's, so it serves ``say``
only. Here the map reads WORLD's mean/variance-mapped envelope instead (each source utterance
brought to the target's statistics first, as ``world`` does), learned from the voice's clips and
one or more base TTS voices saying the same words: where the input no longer says which voice it
came from, the map may hold for any speaker's speech. Each variant converts the other dev
speakers' held-out clips into each target (the eval's ``vc`` rows: the same sources); both judges
and Whisper WER score every output; rows go to a JSON file.

    python bench/convert_map.py librispeech-other,vctk '' rows.json [--map] [fresh]

``--map`` scores the frame maps (one base voice, or the searched style and two stock voices);
without it, the frame energy's spread brought to the voice's (the dynamics ``adapted`` uses,
here the voice's spread over the source utterance's) on ``world`` and ``knn``, with the
source's F0 tracked by the default tracker (swift) or harvest (knn without its warp, as
recorded). The frequency warp (:mod:`voxclone.convert.warp`) applied to the source before the
map, its warp chosen by the mean voiced envelopes (``--warp``), by the log-F0 difference or by
the speaker encoder (``--warp-f0``), by the encoder over five or nine warps, before or after the
map (``--warp-enc``); ``--knn-blend``: knn as it is (with its warp) at larger blends;
``--knn-keys``: knn's source keys taken from the source once WORLD has converted it;
``--select``: one more setting (pitch, intonation width, blend) chosen per utterance by the
encoder (``--select-wide``: a wider pitch grid, and pitch and width together); ``--pitch``:
knn without and with its pitch choice (made as shipped, on the utterance's head);
``--pitch-more``: a wider pitch grid, and the intonation width chosen after it; ``--knn-k``:
more neighbours or more smoothing of the matched envelope; ``--knn-bands``: the matched envelope
blended more strongly into the higher cepstral orders only, and each order's spread brought back
to the mapped envelope's (global-variance compensation, ``KnnConfig.spread``);
``--knn-confident``: the blend of each window by how near its neighbours' keys lie (its rank
within the utterance), between a low and a high blend; ``--own-pitch``: the pitch offset chosen
on knn's own output's head; ``--world``: ``vc:world`` alone. A fifth argument ``fresh`` takes
other source utterances (:func:`fresh_sources`). Rows recorded before knn restored the spread by
default (2026-12-04) had it off; rows recorded before knn chose its pitch pin it off (``pitches=()``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from voxclone.asr import transcribe
from voxclone.audio.io import load
from voxclone.convert.base import ConvertSettings
from voxclone.convert.knn import KNN_PITCHES, KnnConfig, KnnConverter, _fit_length
from voxclone.convert.matching_set import MatchingSet
from voxclone.convert.frame_map import FrameMap, FrameMapConfig, context_frames
from voxclone.audio.f0 import log_f0_stats
from voxclone.audio.speaker import cosine, speaker_encoder
from voxclone.convert.warp import choose_warp, warp
from voxclone.convert.world import WorldConverter
from voxclone.eval.dataset import split_speakers
from voxclone.eval.runner import _sources
from voxclone.eval.scoring import Scorer
from voxclone.pipeline.adapt import parallel_pairs
from voxclone.pipeline.knn import knn_converter
from voxclone.pipeline.kokoro_clone import StyleSearchConfig
from voxclone.pipeline.style_cache import cached_search
from voxclone.tts.kokoro import KokoroTTS

DATA = Path(__file__).resolve().parents[2] / "shared" / "eval-data"
KEYS = ("similarity", "similarity_dvec", "wer")
STOCK = ("jm_kumo", "jf_alpha")
"""Stock base voices added to the searched style for the many-voice map."""


class MappedWorld(WorldConverter):
    """WORLD's map, its c1.. pulled at ``blend`` toward a frame map of the WORLD-mapped envelope
    on speech frames; the dynamics as WORLD's own (``dynamics``)."""

    def __init__(self, frame_map: FrameMap, blend: float, dynamics: bool) -> None:
        super().__init__(dynamics=dynamics)
        self.fmap, self.blend = frame_map, blend

    def convert(self, audio, target, settings=ConvertSettings(), source=None, timer=None):
        an = self.analyze(audio, settings.f0_method)  # type: ignore[arg-type]
        src = self._stats([an])
        mapped = self.mapped_mcep(an, src, target, 1.0)
        learned = self.fmap.predict(mapped, an.f0 > 0)
        mcep = self.pulled_mcep(an, mapped, learned, self.blend, settings.strength, an.speech)
        mcep = self.with_voice_dynamics(mcep, an, src, target, settings.strength)
        return self.synthesize(an, mcep, src, target, settings)


def mapped_pairs(conv: WorldConverter, pairs, target) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (WORLD-mapped base envelope, per utterance's own statistics, ±context) and the
    target's c1.. of the aligned speech frames."""
    cfg = FrameMapConfig()
    xs, ys = [], []
    for p in pairs:
        src, tgt, path = p.source, p.target, p.path
        keep = src.speech[path[:, 0]] & tgt.speech[path[:, 1]]
        mapped = conv.mapped_mcep(src, conv._stats([src]), target, 1.0)
        x = context_frames(mapped[:, 1:], src.f0 > 0, cfg.context, cfg.stride)
        xs.append(x[path[keep, 0]])
        ys.append(tgt.mcep[path[keep, 1], 1:])
    return np.concatenate(xs), np.concatenate(ys)


def dynamics_variants(clips, feats) -> dict:
    """Without ``--map``: world and knn, each with and without the dynamics; world also with
    the source's F0 by harvest."""
    knn, dyn_knn = knn_converter(dynamics=False, warps=(), pitches=()), knn_converter(dynamics=True, warps=(), pitches=())
    knn_feats = knn.features(clips)
    plain, dyn = WorldConverter(dynamics=False), WorldConverter(dynamics=True)
    swift, harvest = ConvertSettings(), ConvertSettings(f0_method="harvest")
    return {"world": (plain, feats, swift), "world-dyn": (dyn, feats, swift),
            "world-harvest": (plain, feats, harvest), "world-harvest-dyn": (dyn, feats, harvest),
            "knn": (knn, knn_feats, swift), "knn-dyn": (dyn_knn, knn_feats, swift)}


def map_variants(clips, feats, tts, world) -> dict:
    """``--map``: the frame maps of the WORLD-mapped envelope, against world (and its dynamics)."""
    style = cached_search(clips, StyleSearchConfig(effort=1.0, budget_s=1e9, max_steps=6),
                          tts=tts).table
    texts = [transcribe(c, "en", words=False).text for c in clips]
    start = time.perf_counter()
    own = parallel_pairs(clips, texts, lambda t: tts.synthesize(t, "en", style_table=style), world)
    stock = [p for v in STOCK for p in parallel_pairs(
        clips, texts, lambda t, v=v: tts.synthesize(t, "en", voice=v), world)]
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    map1 = FrameMap.fit(*mapped_pairs(world, own, feats))
    mapn = FrameMap.fit(*mapped_pairs(world, own + stock, feats))
    print("pairs", round(build_s, 1), "s; fits", round(time.perf_counter() - start, 1), "s", flush=True)
    return {name: (conv, feats, ConvertSettings()) for name, conv in {
        "world": WorldConverter(dynamics=False), "world-dyn": WorldConverter(dynamics=True),
        "map1-b05": MappedWorld(map1, 0.5, False), "mapn-b05": MappedWorld(mapn, 0.5, False),
        "mapn-b05-dyn": MappedWorld(mapn, 0.5, True),
        "mapn-b075-dyn": MappedWorld(mapn, 0.75, True)}.items()}


class Warped:
    """Mixin: the source utterance's envelope warped (:mod:`voxclone.convert.warp`) toward the
    target's mean voiced envelope over coefficients ``first``.., at ``share`` of the chosen warp,
    before WORLD's map."""

    first, share, goal, chosen, gamma, grid, forced, post = 1, 1.0, None, [], 0.0, (), None, False

    def convert(self, audio, target, settings=ConvertSettings(), source=None, timer=None):
        self.goal = np.asarray(target["mc_mean_voiced"])
        self.lf0 = target["lf0_mean"]
        try:
            if not self.grid:
                return super().convert(audio, target, settings, source, timer)
            goal = np.asarray(target["embedding"], dtype=np.float32)
            best = (-2.0, None, 0.0)
            for b in self.grid:
                self.forced = b
                out = super().convert(audio, target, settings, source, timer)
                score = cosine(speaker_encoder().embed(out), goal)
                best = max(best, (score, out, b), key=lambda t: t[0])
            self.chosen.append(best[2])
            return best[1]
        finally:
            self.goal, self.forced = None, None

    def analyze(self, audio, method="harvest", aperiodicity=True):
        an = super().analyze(audio, method, aperiodicity)
        if self.goal is not None and not self.post:
            sel = (an.f0 > 0) & an.speech
            if self.forced is not None:
                beta = self.forced
            elif self.gamma:
                beta = float(np.clip(self.gamma * (self.lf0 - log_f0_stats(an.f0)[0]) / 2, -0.12, 0.12))
            else:
                beta = self.share * choose_warp(an.mcep[sel].mean(axis=0), self.goal, self.first)
            if self.forced is None:
                self.chosen.append(beta)
            an.mcep = warp(an.mcep, beta)
        return an


    def with_voice_dynamics(self, mcep, an, src, target, strength):
        if self.post and self.forced:
            mcep = warp(mcep, self.forced)
        return super().with_voice_dynamics(mcep, an, src, target, strength)


def warped(base, first: int = 1, share: float = 1.0, gamma: float = 0.0, grid=(),
           post: bool = False):
    """``base`` (a converter instance) with :class:`Warped` mixed in: the warp by the mean
    envelopes (``first``, ``share``), by the log-F0 difference (``gamma``: formants move by
    the F0 ratio to this power) or by the speaker encoder over ``grid``."""
    conv = base
    conv.__class__ = type("Warped" + type(base).__name__, (Warped, type(base)), {})
    conv.first, conv.share, conv.chosen, conv.gamma, conv.grid = first, share, [], gamma, grid
    conv.post = post
    return conv


class Ranged(WorldConverter):
    """``world`` with the dynamics ratio clamped to ``1/hi .. hi``."""

    def __init__(self, hi: float) -> None:
        super().__init__(dynamics=True)
        self.hi = hi

    def dynamics_ratio(self, an, src, target):
        return float(np.clip(super().dynamics_ratio(an, src, target), 1 / self.hi, self.hi))


def range_variants(clips, feats) -> dict:
    """``--dyn-range``: world without the dynamics and with the ratio clamped to 2, 1.5, 1.25."""
    swift = ConvertSettings()
    return {"world": (WorldConverter(dynamics=False), feats, swift),
            "world-dyn": (WorldConverter(dynamics=True), feats, swift),
            "world-dyn-r1.5": (Ranged(1.5), feats, swift),
            "world-dyn-r1.25": (Ranged(1.25), feats, swift)}


def warp_variants(clips, feats) -> dict:
    """``--warp``: world and knn (with the dynamics) without and with the frequency warp."""
    knn_feats = knn_converter(pitches=()).features(clips)  # with the embedding the warps need
    swift = ConvertSettings()
    grid5 = (-0.08, -0.04, 0.0, 0.04, 0.08)
    if WARP_MODE == "blend":  # knn as it now is (with its warp), at larger blends
        return {"knn": (knn_converter(pitches=()), knn_feats, swift),
                **{f"knn-b{b}": (knn_converter(knn=KnnConfig(blend=b), pitches=()), knn_feats, swift)
                   for b in (0.4, 0.55)}}
    if WARP_MODE == "enc":
        feats = {**feats, "embedding": speaker_encoder().embed_many(clips).tolist()}
        knn_feats = {**knn_feats, "embedding": feats["embedding"]}
        return {"world-dyn": (WorldConverter(dynamics=True), feats, swift),
                "enc5": (warped(WorldConverter(dynamics=True), grid=grid5), feats, swift),
                "enc9": (warped(WorldConverter(dynamics=True), grid=tuple(np.round(np.arange(-0.08, 0.081, 0.02), 3))),
                         feats, swift),
                "enc5-post": (warped(WorldConverter(dynamics=True), grid=grid5, post=True), feats, swift),
                "knn-dyn": (knn_converter(warps=(), pitches=()), knn_feats, swift),
                "knn-enc5": (warped(knn_converter(warps=(), pitches=()), grid=grid5), knn_feats, swift)}
    if WARP_MODE == "f0":
        feats = {**feats, "embedding": speaker_encoder().embed_many(clips).tolist()}
        return {"world-dyn": (WorldConverter(dynamics=True), feats, swift),
                "f0-015": (warped(WorldConverter(dynamics=True), gamma=0.15), feats, swift),
                "f0-03": (warped(WorldConverter(dynamics=True), gamma=0.3), feats, swift),
                "enc": (warped(WorldConverter(dynamics=True), grid=(-0.08, -0.04, 0.0, 0.04, 0.08)), feats, swift),
                "knn-dyn": (knn_converter(warps=(), pitches=()), knn_feats, swift),
                "knn-f0-03": (warped(knn_converter(warps=(), pitches=()), gamma=0.3), knn_feats, swift)}
    return {"world-dyn": (WorldConverter(dynamics=True), feats, swift),
            "warp1": (warped(WorldConverter(dynamics=True), 1), feats, swift),
            "warp2": (warped(WorldConverter(dynamics=True), 2), feats, swift),
            "warp1-half": (warped(WorldConverter(dynamics=True), 1, 0.5), feats, swift),
            "knn-dyn": (knn_converter(warps=(), pitches=()), knn_feats, swift),
            "knn-warp1": (warped(knn_converter(warps=(), pitches=()), 1), knn_feats, swift)}


class ConvertedKeys(KnnConverter):
    """``knn`` whose source keys come from the source already converted by WORLD (warped,
    mapped, with the dynamics) rather than from the source speech, so they sit nearer the
    voice's in the phonetic space; ``resynth``: the matching set's keys from each clip's own
    WORLD resynthesis too, so both sides have been through the vocoder."""

    def __init__(self, knn: KnnConfig = KnnConfig(), resynth: bool = False) -> None:
        base = knn_converter()
        super().__init__(knn=knn, keys=base._keys, pitches=())
        self.resynth = resynth

    def _clip_set(self, clip, an):
        if not self.resynth:
            return super()._clip_set(clip, an)
        an = self.analyze(clip, self.config.target_f0_method)  # with its aperiodicity
        stats = self._stats([an])
        keys = self.keys(WorldConverter.synthesize(self, an, an.mcep, stats, stats, ConvertSettings()))
        values, voiced, speech = self._windows(an, len(keys))
        return MatchingSet(keys[speech], values[speech], voiced[speech])

    def convert(self, audio, target, settings=ConvertSettings(), source=None, timer=None):
        an = self.analyze(audio, settings.f0_method)  # type: ignore[arg-type]
        an, source = self.warped_analysis(an, target, settings, source, timer)
        src = source or self._stats([an])
        mapped = self.mapped_mcep(an, src, target, 1.0)
        world = WorldConverter.synthesize(
            self, an, self.with_voice_dynamics(mapped, an, src, target, 1.0), src, target, settings)
        bank = MatchingSet.from_text(target["matching_set"])
        matched = self.matched_mcep(world, an, bank, mapped[:, 1:])
        mcep = self.pulled_mcep(an, mapped, matched, self.knn.blend, settings.strength)
        mcep = self.with_voice_dynamics(mcep, an, src, target, settings.strength)
        out = self.synthesize(an, mcep, src, target, settings, timer)
        return _fit_length(out, round(len(audio) * out.sample_rate / audio.sample_rate))


def keys_variants(clips, feats) -> dict:
    """``--knn-keys``: knn as it is against knn keyed on the WORLD-converted source (at blends
    0.25 and 0.4), and with the matching set keyed on the clips' resynthesis as well."""
    swift = ConvertSettings()
    knn = knn_converter(pitches=())
    knn_feats = knn.features(clips)
    resynth = ConvertedKeys(resynth=True)
    resynth_feats = resynth.features(clips)
    return {"knn": (knn, knn_feats, swift),
            "knn-ckeys": (ConvertedKeys(), knn_feats, swift),
            "knn-ckeys-b0.4": (ConvertedKeys(KnnConfig(blend=0.4)), knn_feats, swift),
            "knn-rkeys": (resynth, resynth_feats, swift),
            "knn-rkeys-b0.4": (ConvertedKeys(KnnConfig(blend=0.4), resynth=True), resynth_feats,
                               swift)}


class Selecting:
    """Converts with each of ``options`` (converter, settings) and keeps the output the speaker
    encoder (resemblyzer) puts closest to the voice's clips: an upper bound of choosing one more
    setting per utterance by the encoder, as the warp is chosen."""

    def __init__(self, options) -> None:
        self.options, self.chosen = options, []

    def convert(self, audio, target, settings=ConvertSettings(), source=None, timer=None):
        goal = np.asarray(target["embedding"], dtype=np.float32)
        outs = [conv.convert(audio, target, s) for conv, s in self.options]
        scores = [cosine(speaker_encoder().embed(o), goal) for o in outs]
        best = int(np.argmax(scores))
        self.chosen.append(best)
        return outs[best]


def select_variants(clips, feats) -> dict:
    """``--select``: knn as it is, and knn with one more setting chosen per utterance by the
    encoder: the pitch (−1.5, 0, +1.5 semitones over the mapped), the intonation's width
    (×0.8, 1, 1.25) or the matched envelope's blend (0.25, 0.5)."""
    knn = knn_converter(pitches=())
    knn_feats = knn.features(clips)
    swift = ConvertSettings()
    pitch = Selecting([(knn, ConvertSettings(pitch_shift=p)) for p in (-1.5, 0.0, 1.5)])
    width = Selecting([(knn, ConvertSettings(energy=e)) for e in (0.8, 1.0, 1.25)])
    blend = Selecting([(knn, swift), (knn_converter(knn=KnnConfig(blend=0.5), pitches=()), swift)])
    if SELECT_MODE == "wide":  # a wider pitch grid, and the pitch and width chosen together
        pitch5 = Selecting([(knn, ConvertSettings(pitch_shift=p)) for p in (-3, -1.5, 0, 1.5, 3)])
        both = Selecting([(knn, ConvertSettings(pitch_shift=p, energy=e))
                          for p in (-1.5, 0.0, 1.5) for e in (0.8, 1.0, 1.25)])
        return {"knn": (knn, knn_feats, swift), "knn-sel-pitch": (pitch, knn_feats, swift),
                "knn-sel-pitch5": (pitch5, knn_feats, swift),
                "knn-sel-pitch-width": (both, knn_feats, swift)}
    return {"knn": (knn, knn_feats, swift), "knn-sel-pitch": (pitch, knn_feats, swift),
            "knn-sel-width": (width, knn_feats, swift), "knn-sel-blend": (blend, knn_feats, swift)}


def pitch_variants(clips, feats) -> dict:
    """``--pitch``: knn as it was (its warp, no pitch choice) and as it is (the pitch offset of
    ``KNN_PITCHES`` chosen on the utterance's head by WORLD conversions, as the warp is)."""
    swift = ConvertSettings()
    knn = knn_converter(pitches=KNN_PITCHES)
    knn_feats = knn.features(clips)
    return {"knn-nopitch": (knn_converter(pitches=()), knn_feats, swift),
            "knn": (knn, knn_feats, swift)}


class WidthChoosing(KnnConverter):
    """``--pitch-more``: knn as shipped, then the intonation width of ``widths`` (``energy``)
    chosen by the encoder on the utterance's head too, after the pitch."""

    def __init__(self, widths: tuple[float, ...] = (0.8, 1.0, 1.25)) -> None:
        super().__init__(keys=knn_converter()._keys)
        self.widths = widths

    def pitched_settings(self, an, target, settings, source=None, timer=None, unshifted=None):
        from dataclasses import replace

        from voxclone.audio.speaker import closest_to

        chosen = super().pitched_settings(an, target, settings, source, timer, unshifted)
        if settings.energy != 1.0 or "embedding" not in target:
            return chosen
        head = self._choice_head(an)
        src = source or self._stats([head])
        goal = np.asarray(target["embedding"], dtype=np.float32)
        best, _ = closest_to(goal, ((w, self._choice_conversion(head, src, target, replace(chosen, energy=w)))
                                    for w in self.widths), 1.0)
        return replace(chosen, energy=best)


def pitch_more_variants(clips, feats) -> dict:
    """``--pitch-more``: knn as shipped; with a pitch grid of ±2 (3 and 5 offsets); with the
    intonation width chosen after the pitch."""
    swift = ConvertSettings()
    knn = knn_converter()
    knn_feats = knn.features(clips)
    return {"knn": (knn, knn_feats, swift),
            "knn-pitch2": (knn_converter(pitches=(-2.0, 0.0, 2.0)), knn_feats, swift),
            "knn-pitch5": (knn_converter(pitches=(-2.0, -1.0, 0.0, 1.0, 2.0)), knn_feats, swift),
            "knn-width": (WidthChoosing(), knn_feats, swift)}


def knn_k_variants(clips, feats) -> dict:
    """``--knn-k``: knn as shipped (k 4, smoothing 9 frames) and with more neighbours or a
    longer smoothing of the matched envelope (the matching set is the same for all)."""
    swift = ConvertSettings()
    knn = knn_converter()
    knn_feats = knn.features(clips)
    return {"knn": (knn, knn_feats, swift),
            "knn-k8": (knn_converter(knn=KnnConfig(k=8)), knn_feats, swift),
            "knn-k16": (knn_converter(knn=KnnConfig(k=16)), knn_feats, swift),
            "knn-smooth17": (knn_converter(knn=KnnConfig(smooth_frames=17)), knn_feats, swift)}


class Banded(KnnConverter):
    """``--knn-bands``: knn as shipped, its matched envelope blended at ``high`` from order
    ``split`` on (``blend`` below it); ``spread`` as :class:`KnnConfig`'s."""

    def __init__(self, split: int = 13, high: float = 0.5, spread: bool = False) -> None:
        super().__init__(knn=KnnConfig(spread=spread), keys=knn_converter()._keys)
        self.split, self.high = split, high

    def pulled_mcep(self, an, mapped, envelope, blend, strength, rows=slice(None), spread=False):
        weights = np.full(mapped.shape[1] - 1, blend)
        weights[self.split - 1:] = self.high
        return super().pulled_mcep(an, mapped, envelope, weights, strength, rows, spread)


def bands_variants(clips, feats) -> dict:
    """``--knn-bands``: knn as shipped before the spread came on; the higher orders (13..) at
    blend 0.5 and 0.75; each order's spread restored (``KnnConfig(spread=True)``) alone and with
    the higher orders at 0.5."""
    swift = ConvertSettings()
    knn = knn_converter(knn=KnnConfig(spread=False))
    knn_feats = knn.features(clips)
    return {"knn": (knn, knn_feats, swift),
            "knn-hi0.5": (Banded(high=0.5), knn_feats, swift),
            "knn-hi0.75": (Banded(high=0.75), knn_feats, swift),
            "knn-gv": (knn_converter(knn=KnnConfig(spread=True)), knn_feats, swift),
            "knn-hi0.5-gv": (Banded(high=0.5, spread=True), knn_feats, swift)}


def confident_variants(clips, feats) -> dict:
    """``--knn-confident``: with the spread restored, at blend 0.35, and the blend by the
    neighbours' nearness (``blend_range``) from 0.1 to 0.4 (mean 0.25) and 0.15 to 0.55 (mean
    0.35); on fresh sources knn as shipped, with the spread alone, and the first two, side by side."""
    swift = ConvertSettings()
    knn_feats = knn_converter().features(clips)
    rows = {"knn-gv-b0.35": KnnConfig(blend=0.35, spread=True),
            "knn-conf0.1-0.4-gv": KnnConfig(blend_range=(0.1, 0.4), spread=True),
            "knn-conf0.15-0.55-gv": KnnConfig(blend_range=(0.15, 0.55), spread=True)}
    if FRESH:
        rows = {"knn": KnnConfig(spread=False), "knn-gv": KnnConfig(spread=True),
                **{k: v for k, v in rows.items() if k != "knn-conf0.15-0.55-gv"}}
    return {name: (knn_converter(knn=cfg), knn_feats, swift) for name, cfg in rows.items()}


class OwnPitch(KnnConverter):
    """``--own-pitch``: knn whose pitch offset is chosen on the head of its own envelope (the
    matched one, blended) rather than of WORLD's conversion; the warp is chosen as shipped."""

    def __init__(self, knn: KnnConfig = KnnConfig()) -> None:
        super().__init__(knn=knn, keys=knn_converter()._keys)

    def convert(self, audio, target, settings=ConvertSettings(), source=None, timer=None):
        from dataclasses import replace

        from voxclone.audio.speaker import closest_to

        an = self.analyze(audio, settings.f0_method)  # type: ignore[arg-type]
        an, source, _ = self._warp_choice(an, target, settings, source, timer)
        src = source or self._stats([an])
        mapped = self.mapped_mcep(an, src, target, 1.0)
        bank = MatchingSet.from_text(target["matching_set"])
        matched, blend = self.matched(audio, an, bank, mapped[:, 1:])
        mcep = self.pulled_mcep(an, mapped, matched, blend, settings.strength, spread=self.knn.spread)
        mcep = self.with_voice_dynamics(mcep, an, src, target, settings.strength)
        if self.pitches and settings.pitch_shift == 0.0 and settings.strength > 0.0:
            head = self._choice_head(an)
            n = len(head.f0)
            goal = np.asarray(target["embedding"], dtype=np.float32)
            best, _ = closest_to(goal, ((p, self.synthesize(head, mcep[:n], src, target,
                                                            replace(settings, pitch_shift=p)))
                                        for p in self.pitches), 0.0)
            settings = replace(settings, pitch_shift=best)
        out = self.synthesize(an, mcep, src, target, settings, timer)
        return _fit_length(out, round(len(audio) * out.sample_rate / audio.sample_rate))


def own_pitch_variants(clips, feats) -> dict:
    """``--own-pitch``: knn choosing its pitch on its own output's head, without and with the
    spread restored (knn as shipped and with the spread: ``--knn-bands``' rows)."""
    swift = ConvertSettings()
    knn_feats = knn_converter().features(clips)
    return {"knn-ownpitch": (OwnPitch(KnnConfig(spread=False)), knn_feats, swift),
            "knn-ownpitch-gv": (OwnPitch(KnnConfig(spread=True)), knn_feats, swift)}


def world_variants(clips, feats) -> dict:
    """``--world``: ``vc:world`` as the eval makes it (the row the bar compares knn with),
    e.g. on fresh sources beside ``--knn-confident fresh``' rows."""
    return {"world": (WorldConverter(), feats, ConvertSettings())}


WARP_MODE = ""
SELECT_MODE = ""
FRESH = False


def fresh_sources(others, n: int = 2):
    """Sources none of the rows above used (``fresh`` as the fifth argument): the held-out
    scoring clip of the others from the third on (then the first two), instead of the eval's
    ceiling clip of the first two, so a setting chosen on the eval's conversions is checked
    on other utterances and, where a set has the speakers, other source speakers."""
    order = others[2:] + others[:2]
    return [s.score[0] for s in order if s.score][:n]


def main(sets: str, speakers: str, out_path: str, mode: str = "", sources: str = "") -> None:
    scorer, world = Scorer(dnsmos=False), WorldConverter()
    global WARP_MODE, SELECT_MODE, FRESH
    FRESH = sources == "fresh"
    SELECT_MODE = "wide" if mode == "--select-wide" else ""
    mode = "--select" if SELECT_MODE else mode
    WARP_MODE = {"--warp-f0": "f0", "--warp-enc": "enc", "--knn-blend": "blend"}.get(mode, "")
    mode = "--warp" if WARP_MODE else mode
    tts = KokoroTTS() if mode == "--map" else None
    wanted = set(speakers.split(",")) if speakers else None
    rows: list[dict] = []
    for name in sets.split(","):
        splits = split_speakers(DATA / name, 20.0, 2, 0)[0]
        for split in splits:
            if wanted is not None and split.speaker not in wanted:
                continue
            others = [s for s in splits if s.speaker != split.speaker]
            clips = [load(u.path) for u in split.enrol]
            refs = [scorer.embed(load(u.path)) for u in split.score]
            feats = world.features(clips)  # with the clips' energy_spread
            variants = (map_variants(clips, feats, tts, world) if mode == "--map"
                        else keys_variants(clips, feats) if mode == "--knn-keys"
                        else select_variants(clips, feats) if mode == "--select"
                        else pitch_variants(clips, feats) if mode == "--pitch"
                        else pitch_more_variants(clips, feats) if mode == "--pitch-more"
                        else knn_k_variants(clips, feats) if mode == "--knn-k"
                        else bands_variants(clips, feats) if mode == "--knn-bands"
                        else confident_variants(clips, feats) if mode == "--knn-confident"
                        else own_pitch_variants(clips, feats) if mode == "--own-pitch"
                        else world_variants(clips, feats) if mode == "--world"
                        else warp_variants(clips, feats) if mode == "--warp"
                        else range_variants(clips, feats) if mode == "--dyn-range"
                        else dynamics_variants(clips, feats))
            for i, utt in enumerate(fresh_sources(others) if FRESH else _sources(others, 2)):
                source = load(utt.path)
                row = {"speaker": split.speaker, "gender": split.gender, "i": i,
                       "source_speaker": utt.speaker}
                rows.append({**row, "method": "source",
                             **{k: scorer.score(source, refs, utt.transcript)[k] for k in KEYS}})
                for vname, (conv, f, settings) in variants.items():
                    scored = scorer.score(conv.convert(source, f, settings), refs, utt.transcript)
                    rows.append({**row, "method": vname, **{k: scored[k] for k in KEYS}})
                    if getattr(conv, "chosen", None):
                        rows[-1]["choice" if isinstance(conv, Selecting) else "warp"] = conv.chosen[-1]
                    print(rows[-1], flush=True)
            Path(out_path).write_text(json.dumps(rows, indent=1))
    summary: dict[str, list[dict]] = {}
    for r in rows:
        summary.setdefault(r["method"], []).append(r)
    for vname, rs in summary.items():
        print(vname, {k: round(float(np.mean([r[k] for r in rs])), 4) for k in KEYS}, "n", len(rs))


if __name__ == "__main__":
    main(*sys.argv[1:6])

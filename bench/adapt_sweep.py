"""Per-voice adaptation from parallel data, measured against world / world-auto on dev speakers.

For each speaker: Whisper transcribes the enrolment clips, Kokoro (a style searched for a fixed
number of steps) speaks those transcripts, their frames are aligned to the clips' by DTW on
Whisper encoder states, and a frame map (base-TTS mel-cepstra → the target's) is trained. Each
variant then converts the same Kokoro speech of the held-out texts; both judges and Whisper WER
score every output; rows go to a JSON file.

    python bench/adapt_sweep.py librispeech-other,vctk,ljspeech '' rows.json

``--combined`` (a fourth argument) scores instead the default map combined with the knn
converter's matched frames (both blended into WORLD's map) against each alone; ``--residual``
maps that learn the target less WORLD's mapped envelope; ``--levers`` the default map against
two levers: the blend and WORLD strength chosen per voice by the speaker encoder on the
calibration text (as ``world-auto`` chooses its strength), and the full map on the low cepstra
(c1–c8) only; ``--speeds`` the map learned from pairs of the base TTS speaking each transcript
at three speeds (0.9, 1, 1.1) against the default map; ``--guided`` both, and unit selection
guided by the map (the voice's own frames nearest to the map's prediction, among the phonetically
near ones of knn's matching set); ``--prosody`` the F0 map extended by the shape of the
voice's log-F0 distribution (quantiles) and its declination per phrase; ``--texture`` the F0
map extended by the spread of the contour's fast movements (log-F0 less its ~100 ms moving
average, per voiced run), and the frame energy's (c0's) spread over the speech frames, each
brought from the base voice's to the voice's own; ``--f0map`` an F0 map learned from the same
parallel speech (the base voice's standardised log-F0 over ±200 ms → the voice's at the aligned
frame), blended into WORLD's F0 map; ``--intonation`` the converter's own options: the F0 map
as a correction of the base voice's contour (``f0_blend``), the energy spread (``dynamics``), and
both (``--intonation-low``: the F0 map at 30 %); ``--energy`` the frame energy's spread against an energy
map learned from the parallel speech (the base voice's c0..c34 ±20 ms → the voice's c0 at the
aligned frame, each about its utterance's mean over speech frames); ``--harvest`` the base
speech's F0 tracked by harvest instead of dio, for the pairs and the conversion; ``--capacity``
the envelope map with more context or more hidden units; ``--smaller`` the maps smaller, trained
for fewer steps or with more weight decay (both settings apply to the F0 map too);
``--f0-smooth`` the F0 map's correction smoothed in time; ``--warp`` a frequency warp of the
converted envelope chosen per voice by the speaker encoder on the calibration text, for the
default converter and world-auto; ``--f0-clamp`` the default converter without its F0 map and
with its F0 held within 1.5 or 2 standard deviations of the voice's mean; ``--smooth-map`` the
map's correction of WORLD's envelope smoothed in time; ``--pitch`` a pitch offset (±1.5
semitones) chosen by the speaker encoder, per utterance or per voice on the calibration text;
``--pitch-head`` the default converter's own pitch choice, made as shipped on the head;
``--spread`` the default converter with each envelope order's spread widened back to WORLD's
mapped envelope's after the blend (``spread``).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from voxclone.asr import transcribe
from voxclone.audio.io import load
from voxclone.audio.speaker import cosine, speaker_encoder
from voxclone.convert.adapted import AdaptedConverter
from voxclone.convert.base import ConvertSettings
from voxclone.convert.frame_map import FrameMap, FrameMapConfig, context_frames
from voxclone.convert.dynamics import energy_spread, relative_energy, with_dynamics
from voxclone.convert.prosody_map import f0_inputs, fit_f0_map
from voxclone.convert.knn import KnnConverter
from voxclone.convert.matching_set import MatchingSet
from voxclone.convert.warp import warp
from voxclone.convert.world import PITCH_CHOICES, WorldConverter
from voxclone.convert.world_auto import AutoWorldConverter
from voxclone.eval.dataset import split_speakers
from voxclone.eval.runner import _speakable
from voxclone.eval.scoring import Scorer
from voxclone.pipeline.adapt import parallel_pairs
from voxclone.pipeline.knn import knn_converter
from voxclone.pipeline.kokoro_clone import StyleSearchConfig
from voxclone.pipeline.strength import calibration_text
from voxclone.pipeline.style_cache import cached_search
from voxclone.tts.base import Style
from voxclone.tts.kokoro import KokoroTTS

DATA = Path(__file__).resolve().parents[2] / "shared" / "eval-data"
KEYS = ("similarity", "similarity_dvec", "wer")
MAP_ONLY = {"f0_blend": 0.0, "dynamics": False}
"""The envelope map alone (the ``adapted`` of every mode measured before the F0 map and the
dynamics joined the converter's defaults)."""
RECORDED = FrameMapConfig(steps=1500)
"""The maps' training as every recorded row had it (the default is now 750 steps: ``--smaller``)."""
RESIDUAL = {"adapt-b05": {"blend": 0.5}, "residual-b05": {"blend": 0.5, "residual": True},
            "residual-b075": {"blend": 0.75, "residual": True}, "residual-b1": {"blend": 1.0, "residual": True}}
"""``--residual``: the map of target less WORLD's mapped envelope, against the default map."""
INTONATION = {"adapted": {"blend": 0.5, "f0_blend": 0.0, "dynamics": False},
              "adapted-dyn": {"blend": 0.5, "f0_blend": 0.0, "dynamics": True},
              "adapted-f0-b05": {"blend": 0.5, "f0_blend": 0.5, "dynamics": False},
              "adapted-f0-b1": {"blend": 0.5, "f0_blend": 1.0, "dynamics": False},
              "adapted-f0-b05-dyn": {"blend": 0.5, "f0_blend": 0.5, "dynamics": True}}
"""``--intonation``: the converter's F0 map (a correction of the base contour) and dynamics."""
INTONATION_LOW = {"adapted-f0-b03-dyn": {"blend": 0.5, "f0_blend": 0.3, "dynamics": True}}
"""``--intonation-low``: a smaller share of the F0 map's correction, for its cost in words."""
DEFAULT = {"blend": 0.5, "f0_blend": 0.5, "dynamics": True}
CAPACITY = {"adapted": DEFAULT, "adapted-ctx4": {**DEFAULT, "context": 4},
            "adapted-h256": {**DEFAULT, "hidden": 256, "steps": 3000},
            "adapted-ctx4-h256": {**DEFAULT, "context": 4, "hidden": 256, "steps": 3000}}
"""``--capacity``: the default converter's envelope map wider (±40 ms of context) or larger
(2 × 256 hidden, twice the steps)."""
SMALLER = {"adapted": DEFAULT, "adapted-h64": {**DEFAULT, "hidden": 64},
           "adapted-steps750": {**DEFAULT, "steps": 750},
           "adapted-wd1e-2": {**DEFAULT, "weight_decay": 1e-2}}
"""``--smaller``: the default converter's maps smaller (2 × 64 hidden), trained for half the
steps, or with 100 × the weight decay."""
F0_SMOOTH = {"adapted": DEFAULT, "adapted-steps750": {**DEFAULT, "steps": 750},
             "adapted-steps750-f0smooth11": {**DEFAULT, "steps": 750, "f0_smooth": 11},
             "adapted-steps750-f0smooth31": {**DEFAULT, "steps": 750, "f0_smooth": 31}}
"""``--f0-smooth``: the F0 map's correction smoothed over 55 or 155 ms (for its cost in words),
with the maps trained for half the steps."""
HARVEST = {"adapted": {"blend": 0.5, "f0_blend": 0.5, "dynamics": True}}
"""``--harvest``: the default converter as it is (dio), beside its harvest rows."""
VARIANTS = {"adapt-b1": {"blend": 1.0}, "adapt-b05": {"blend": 0.5},
            "adapt-b1-gv": {"blend": 1.0, "gv": True}, "adapt-b075-gv": {"blend": 0.75, "gv": True}}


def mapped_and_learned(conv: AdaptedConverter, audio, target, settings):
    """The analysis of ``audio``, its statistics, WORLD's mapped envelope and the map's one."""
    an = conv.analyze(audio, settings.f0_method)
    src = conv._stats([an])
    mapped = conv.mapped_mcep(an, src, target, 1.0)
    return an, src, mapped, FrameMap.from_text(target["adaptation"]).predict(an.mcep, an.f0 > 0)


class Combined:
    """The adapted map at ``blend`` and knn's matched frames at ``knn_blend``, both pulled into
    WORLD's mapped envelope on speech frames (one analysis, one synthesis)."""

    def __init__(self, adapted: AdaptedConverter, knn: KnnConverter, blend: float, knn_blend: float):
        self.adapted, self.knn, self.blend, self.knn_blend = adapted, knn, blend, knn_blend

    def convert(self, audio, target, settings):
        conv = self.adapted
        an, src, mapped, learned = mapped_and_learned(conv, audio, target, settings)
        matched = self.knn.matched_mcep(audio, an, MatchingSet.from_text(target["matching_set"]),
                                        mapped[:, 1:])
        mix, sp = mapped.copy(), an.speech
        mix[sp, 1:] += (self.blend * (learned[sp] - mapped[sp, 1:])
                        + self.knn_blend * (matched[sp] - mapped[sp, 1:]))
        return conv.synthesize(an, mix, src, target, settings)


def combined_variants(clips, pairs, feats) -> dict:
    """adapted (default), knn (default) and both together, with the features each needs."""
    adapted, knn = AdaptedConverter(frame_map=RECORDED, **MAP_ONLY), knn_converter(warps=(), pitches=())
    parts = [knn.analyze(c, knn.config.target_f0_method, False) for c in clips]
    feats = {**feats, **adapted.adaptation(pairs),
             "matching_set": knn.matching_set(clips, parts).to_text()}
    return {"adapted": (adapted, feats), "knn": (knn, feats),
            "adapted+knn": (Combined(adapted, knn, adapted.blend, knn.knn.blend), feats),
            "adapted+knn-half": (Combined(adapted, knn, adapted.blend / 2, knn.knn.blend), feats)}


class Chosen:
    """The map at one (blend, WORLD strength) of a grid, chosen per voice: the pair whose
    conversion of the calibration speech the speaker encoder puts closest to the enrolment
    embedding (``target["embedding"]``)."""

    GRID = tuple((b, f) for b in (0.25, 0.5, 0.75) for f in (0.7, 0.85, 1.0))

    def __init__(self, calibration, target):
        goal = np.asarray(target["embedding"], dtype=np.float32)
        scores = {}
        for blend, fraction in self.GRID:
            out = AdaptedConverter(frame_map=RECORDED, blend=blend, **MAP_ONLY).convert(
                calibration, target, ConvertSettings(strength=fraction, f0_method="dio"))
            scores[(blend, fraction)] = cosine(speaker_encoder().embed(out), goal)
        self.choice = max(scores, key=scores.get)
        print("chosen blend/strength", self.choice, flush=True)
        self.conv = AdaptedConverter(frame_map=RECORDED, blend=self.choice[0], **MAP_ONLY)

    def convert(self, audio, target, settings):
        return self.conv.convert(audio, target, replace(settings, strength=self.choice[1]))


class LowFull(AdaptedConverter):
    """The map at blend 1 on c1–c8 and at the default blend on the rest."""

    def __init__(self):
        super().__init__(**MAP_ONLY)
        self.blend = np.where(np.arange(self.config.order) < 8, 1.0, self.blend)


def lever_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """The default map, the blend/strength chosen per voice, low-full."""
    adapted = AdaptedConverter(frame_map=RECORDED, **MAP_ONLY)
    mapped = {**feats, **adapted.adaptation(pairs)}
    return {"adapted": (adapted, mapped),
            "adapted-chosen": (Chosen(speak_at(calibration_text("en"), 1.0), mapped), mapped),
            "adapted-lowfull": (LowFull(), mapped)}


class Guided:
    """Unit selection guided by the map: each window takes the mean envelope of the voice's own
    ``k`` frames (knn's matching set) that are phonetically near (Whisper keys) and close to the
    map's prediction (``guide_weight``), pulled into WORLD's mapped envelope at ``blend``: real
    frames of the voice where the map alone would give an oversmoothed average."""

    def __init__(self, adapted: AdaptedConverter, knn: KnnConverter, blend: float):
        self.adapted, self.knn, self.blend = adapted, knn, blend

    def convert(self, audio, target, settings):
        conv = self.adapted
        an, src, mapped, learned = mapped_and_learned(conv, audio, target, settings)
        chosen = self.knn.matched_mcep(audio, an, MatchingSet.from_text(target["matching_set"]),
                                       learned)
        mcep = conv.pulled_mcep(an, mapped, chosen, self.blend, settings.strength, an.speech)
        return conv.synthesize(an, mcep, src, target, settings)


def guided_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """The default map; the map from pairs at three speeds; map-guided unit selection."""
    from voxclone.convert.knn import KnnConfig

    out = speed_variants(clips, texts, pairs, feats, speak_at)
    adapted, mapped = out["adapted"]
    base = knn_converter(pitches=())
    parts = [base.analyze(c, base.config.target_f0_method, False) for c in clips]
    mapped = {**mapped, "matching_set": base.matching_set(clips, parts).to_text()}
    out["adapted"] = (adapted, mapped)
    for weight in (0.1, 1.0):
        knn = knn_converter(knn=KnnConfig(guide_weight=weight), pitches=())
        out[f"guided-w{weight:g}"] = (Guided(adapted, knn, adapted.blend), mapped)
    return out


Z_LEVELS = np.linspace(0.01, 0.99, 50)
"""Quantile levels of the standardised log-F0 distribution."""


def voiced_lf0(an) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, log F0) of an analysis's voiced frames."""
    v = an.f0 > 0
    return np.flatnonzero(v) * 0.005, np.log(an.f0[v])


def phrases(t: np.ndarray, gap_s: float = 0.3, min_s: float = 1.0) -> list[np.ndarray]:
    """Index runs of voiced-frame times ``t`` split at gaps of ``gap_s``, each at least ``min_s``."""
    cuts = np.flatnonzero(np.diff(t) > gap_s) + 1
    return [r for r in np.split(np.arange(len(t)), cuts) if len(r) > 50 and t[r[-1]] - t[r[0]] >= min_s]


def prosody(analyses) -> dict:
    """Standardised log-F0 quantiles (each utterance by its own mean/std, as the F0 map is
    applied) and the mean declination (log-F0 per second over phrases, weighted by length)."""
    zs, slopes, weights = [], [], []
    for an in analyses:
        t, lf0 = voiced_lf0(an)
        if len(lf0) < 20:
            continue
        zs.append((lf0 - lf0.mean()) / max(lf0.std(), 1e-3))
        for r in phrases(t):
            slopes.append(np.polyfit(t[r], lf0[r], 1)[0])
            weights.append(t[r[-1]] - t[r[0]])
    return {"zq": np.quantile(np.concatenate(zs), Z_LEVELS),
            "slope": float(np.average(slopes, weights=weights)) if slopes else 0.0}


class Prosodic(AdaptedConverter):
    """The default map with the F0 map extended: ``shape`` maps the standardised log-F0
    distribution of the base voice onto the target's by quantiles (not only mean and spread);
    ``slope`` moves the base voice's mean declination per phrase to the target's."""

    def __init__(self, base: dict, target: dict, shape: bool, slope: bool):
        super().__init__(**MAP_ONLY)
        self.base, self.target, self.shape, self.slope = base, target, shape, slope

    def _map_f0(self, f0, src, tgt, s):
        out = WorldConverter._map_f0(f0, src, tgt, s)
        v = f0 > 0
        if v.sum() < 20:
            return out
        ms, ss = src["lf0_mean"], src["lf0_std"]
        mt, st = tgt["lf0_mean"], tgt["lf0_std"]
        lf0 = np.log(f0[v])
        mapped = np.log(out[v]) - s.pitch_shift * np.log(2.0) / 12.0
        if self.shape:
            z = (lf0 - ms) / max(ss, 1e-3)
            zq, tq = self.base["zq"], self.target["zq"]
            zz = np.interp(z, zq, tq) + np.where(z < zq[0], z - zq[0], 0) + np.where(z > zq[-1], z - zq[-1], 0)
            mapped = lf0 + s.strength * (mt + st * zz - lf0)
        if self.slope:
            t = np.flatnonzero(v) * 0.005
            ratio = st / ss if ss > 1e-3 else 1.0
            delta = self.target["slope"] - self.base["slope"] * ratio
            for r in phrases(t):
                mapped[r] += s.strength * delta * (t[r] - t[r].mean())
        out[v] = np.exp(mapped + s.pitch_shift * np.log(2.0) / 12.0)
        return out


def prosody_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """The default map with WORLD's F0 map, with the distribution's shape, with the declination,
    with both (the base voice's F0 from the parallel speech, the target's from the clips)."""
    adapted = AdaptedConverter(frame_map=RECORDED, **MAP_ONLY)
    mapped = {**feats, **adapted.adaptation(pairs)}
    base = prosody([p.source for p in pairs])
    target = prosody([adapted.analyze(c, adapted.config.target_f0_method, False) for c in clips])
    print("declination base", round(base["slope"], 4), "target", round(target["slope"], 4), flush=True)
    out = {"adapted": (adapted, mapped)}
    for name, shape, slope in (("f0-shape", True, False), ("f0-slope", False, True),
                               ("f0-shape+slope", True, True)):
        out[f"adapted-{name}"] = (Prosodic(base, target, shape, slope), mapped)
    return out


FAST_FRAMES = 21
"""Moving-average width (5 ms frames, ~100 ms) that separates the F0 contour's slow part from its
fast movements."""


def fast_part(lf0: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """Log-F0 of the voiced frames less its moving average over :data:`FAST_FRAMES` within each
    voiced run (runs shorter than that give 0)."""
    out = np.zeros(int(voiced.sum()))
    idx = np.flatnonzero(voiced)
    cuts = np.flatnonzero(np.diff(idx) > 1) + 1
    pos = 0
    for run in np.split(lf0, cuts):
        n = len(run)
        if n >= FAST_FRAMES:
            pad = np.pad(run, FAST_FRAMES // 2, mode="edge")
            out[pos:pos + n] = run - np.convolve(pad, np.ones(FAST_FRAMES) / FAST_FRAMES, "valid")
        pos += n
    return out


def texture(analyses) -> dict:
    """Spread of the standardised log-F0's fast part, and of c0 over speech frames (each
    utterance about its own mean), over ``analyses``."""
    fast = []
    for an in analyses:
        v = an.f0 > 0
        if v.sum() >= 20:
            lf0 = np.log(an.f0[v])
            fast.append(fast_part((lf0 - lf0.mean()) / max(lf0.std(), 1e-3), v))
    return {"fast": float(np.concatenate(fast).std()), "c0": energy_spread(analyses)}


class Textured(AdaptedConverter):
    """The default map with the fast F0 movements (``fast``) and/or the frame energy's spread
    (``energy``) scaled from the base voice's to the target's (factors clamped to 0.5–2)."""

    def __init__(self, base: dict, target: dict, fast: bool, energy: bool):
        super().__init__(**MAP_ONLY)
        self.f_ratio = float(np.clip(target["fast"] / max(base["fast"], 1e-4), 0.5, 2.0)) if fast else 1.0
        self.e_ratio = float(np.clip(target["c0"] / max(base["c0"], 1e-4), 0.5, 2.0)) if energy else 1.0

    def _map_f0(self, f0, src, tgt, s):
        out = WorldConverter._map_f0(f0, src, tgt, s)
        v = f0 > 0
        if self.f_ratio == 1.0 or v.sum() < 20:
            return out
        lf0 = np.log(out[v])
        out[v] = np.exp(lf0 + s.strength * (self.f_ratio - 1.0) * fast_part(lf0, v))
        return out

    def pulled_mcep(self, an, mapped, envelope, blend, strength, rows=slice(None)):
        out = AdaptedConverter.pulled_mcep(an, mapped, envelope, blend, strength, rows)
        return with_dynamics(out, an.speech, 1.0 + strength * (self.e_ratio - 1.0))


def texture_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """The default map; with the fast F0 movements, the energy spread, both, brought to the
    voice's (the base voice's from the parallel speech, the voice's from its clips)."""
    adapted = AdaptedConverter(frame_map=RECORDED, **MAP_ONLY)
    mapped = {**feats, **adapted.adaptation(pairs)}
    base = texture([p.source for p in pairs])
    target = texture([adapted.analyze(c, adapted.config.target_f0_method, False) for c in clips])
    print("texture base", base, "target", target, flush=True)
    out = {"adapted": (adapted, mapped)}
    for name, fast, energy in (("f0-fast", True, False), ("c0-spread", False, True),
                               ("f0-fast+c0-spread", True, True)):
        out[f"adapted-{name}"] = (Textured(base, target, fast, energy), mapped)
    return out


class F0Mapped(AdaptedConverter):
    """The default map, and the voice's F0 contour predicted directly by an F0 map (``f0map``, a
    :class:`FrameMap` on :func:`f0_inputs` → the target's standardised log-F0) pulled at
    ``f0_blend`` into WORLD's F0 map; ``gv`` brings the predictions' spread back to 1. (The
    converter's own ``f0_blend`` option learns a correction of the base contour instead.)"""

    def __init__(self, f0map: FrameMap, f0_blend: float, gv: bool):
        super().__init__(**MAP_ONLY)
        self.f0map, self.f0_blend, self.gv = f0map, f0_blend, gv

    def _map_f0(self, f0, src, tgt, s):
        out = WorldConverter._map_f0(f0, src, tgt, s)
        v = f0 > 0
        if v.sum() < 20:
            return out
        pred = self.f0map.forward(f0_inputs(f0, src["lf0_mean"], src["lf0_std"])[v])[:, 0]
        if self.gv:
            pred = (pred - pred.mean()) / max(pred.std(), 1e-3) + pred.mean()
        mt, st = tgt["lf0_mean"], tgt["lf0_std"]
        z = (np.log(out[v]) - s.pitch_shift * np.log(2.0) / 12.0 - mt) / st
        z = z + s.strength * self.f0_blend * (pred - z)
        out[v] = np.exp(mt + st * z + s.pitch_shift * np.log(2.0) / 12.0)
        return out


def f0map_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """The default map; with an F0 map learned from the parallel speech at blend 0.5 and 1,
    and at 1 with the predictions' spread restored."""
    adapted = AdaptedConverter(frame_map=RECORDED, **MAP_ONLY)
    mapped = {**feats, **adapted.adaptation(pairs)}
    f0map = fit_f0_map(pairs, feats["lf0_mean"], feats["lf0_std"], RECORDED, residual=False)
    out = {"adapted": (adapted, mapped)}
    for name, blend, gv in (("f0map-b05", 0.5, False), ("f0map-b1", 1.0, False),
                            ("f0map-b1-gv", 1.0, True)):
        out[f"adapted-{name}"] = (F0Mapped(f0map, blend, gv), mapped)
    return out


def energy_inputs(an, config: FrameMapConfig) -> np.ndarray:
    """The frame map's inputs with c0 (about its speech mean) in front of c1.. at every offset."""
    mcep = np.concatenate([relative_energy(an)[:, None], an.mcep[:, 1:]], axis=1)
    return context_frames(mcep, an.f0 > 0, config.context, config.stride)


class EnergyMapped(AdaptedConverter):
    """The default map, and the voice's frame energy (c0 about its speech mean) predicted by an
    energy map (``c0map``, a :class:`FrameMap` on :func:`energy_inputs`), pulled at ``c0_blend``
    into the source's on speech frames."""

    def __init__(self, c0map: FrameMap, c0_blend: float):
        super().__init__(**MAP_ONLY)
        self.c0map, self.c0_blend = c0map, c0_blend

    def pulled_mcep(self, an, mapped, envelope, blend, strength, rows=slice(None)):
        out = AdaptedConverter.pulled_mcep(an, mapped, envelope, blend, strength, rows)
        sp = an.speech
        if sp.sum() < 20:
            return out
        m = self.c0map
        x = energy_inputs(an, FrameMapConfig(context=m.context, stride=m.stride))[sp]
        pred = (m._forward((x - m.x_mean) / m.x_std) * m.y_std + m.y_mean)[:, 0]
        rel = relative_energy(an)[sp]
        out[sp, 0] += strength * self.c0_blend * (pred - rel)
        return out


def energy_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """The default map; with the energy spread brought to the voice's; with an energy map at
    blend 0.5 and 1."""
    adapted = AdaptedConverter(frame_map=RECORDED, **MAP_ONLY)
    mapped = {**feats, **adapted.adaptation(pairs)}
    base = texture([p.source for p in pairs])
    target = texture([adapted.analyze(c, adapted.config.target_f0_method, False) for c in clips])
    xs, ys = [], []
    for p in pairs:
        keep = p.source.speech[p.path[:, 0]] & p.target.speech[p.path[:, 1]]
        xs.append(energy_inputs(p.source, RECORDED)[p.path[keep, 0]])
        ys.append(relative_energy(p.target)[p.path[keep, 1]][:, None])
    c0map = FrameMap.fit(np.concatenate(xs), np.concatenate(ys), RECORDED)
    out = {"adapted": (adapted, mapped),
           "adapted-c0-spread": (Textured(base, target, False, True), mapped)}
    for blend in (0.5, 1.0):
        out[f"adapted-c0map-b{blend:g}"] = (EnergyMapped(c0map, blend), mapped)
    return out


def harvest_variants(clips, texts, speak) -> dict:
    """``--harvest``: the default converter with the base speech's F0 tracked by harvest (pairs
    and conversion) instead of dio, and world-auto alike."""
    adapted = AdaptedConverter(frame_map=RECORDED)
    pairs = parallel_pairs(clips, texts, speak, adapted, f0_method="harvest")
    feats = AutoWorldConverter().features(clips)
    return {"adapted-harvest": (adapted, {**feats, **adapted.adaptation(pairs)}, "harvest"),
            "world-auto-harvest": (AutoWorldConverter(), feats, "harvest")}


def speed_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """The default map, and the map learned from pairs at speeds 0.9, 1 and 1.1."""
    adapted = AdaptedConverter(frame_map=RECORDED, **MAP_ONLY)
    extra = [p for speed in (0.9, 1.1)
             for p in parallel_pairs(clips, texts, lambda t, s=speed: speak_at(t, s), adapted)]
    return {"adapted": (adapted, {**feats, **adapted.adaptation(pairs)}),
            "adapted-speeds": (adapted, {**feats, **adapted.adaptation(pairs + extra)})}


WARPS = (-0.08, -0.04, 0.0, 0.04, 0.08)
"""``--warp``: frequency warps (:mod:`voxclone.convert.warp`) the speaker encoder chooses from."""


class PostWarp:
    """Mixin: the converter's mapped envelope warped by ``beta`` before the dynamics."""

    beta = 0.0

    def with_voice_dynamics(self, mcep, an, src, target, strength):
        return super().with_voice_dynamics(warp(mcep, self.beta), an, src, target, strength)


class WarpedAdapted(PostWarp, AdaptedConverter):
    pass


class WarpedAuto(PostWarp, AutoWorldConverter):
    pass


def chosen_warp(conv, calibration, target) -> float:
    """The warp of :data:`WARPS` whose conversion of ``calibration`` the speaker encoder puts
    closest to the target's clips; ``conv.beta`` is left at it."""
    goal = np.asarray(target["embedding"], dtype=np.float32)
    scores = {}
    for beta in WARPS:
        conv.beta = beta
        out = conv.convert(calibration, target, ConvertSettings(f0_method="dio"))
        scores[beta] = cosine(speaker_encoder().embed(out), goal)
    conv.beta = max(scores, key=scores.get)
    print("chosen warp", conv.beta, {k: round(v, 3) for k, v in scores.items()}, flush=True)
    return conv.beta


class Clamped(AdaptedConverter):
    """The default converter with its F0 held within ``width`` standard deviations of the
    voice's mean log-F0 (for the F0 map's cost in words: its extremes)."""

    def __init__(self, width: float):
        super().__init__()
        self.width = width

    def _map_f0(self, f0, src, tgt, s):
        out = super()._map_f0(f0, src, tgt, s)
        voiced = out > 0
        lo = tgt["lf0_mean"] - self.width * tgt["lf0_std"]
        hi = tgt["lf0_mean"] + self.width * tgt["lf0_std"]
        shift = s.pitch_shift * np.log(2.0) / 12.0
        out[voiced] = np.exp(np.clip(np.log(out[voiced]), lo + shift, hi + shift))
        return out


def clamp_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """``--f0-clamp``: the default converter, without its F0 map, and with its F0 clamped."""
    adapted, plain = AdaptedConverter(), AdaptedConverter(f0_blend=0.0)
    mapped = {**feats, **adapted.adaptation(pairs)}
    return {"adapted": (adapted, mapped), "adapted-no-f0map": (plain, mapped),
            "adapted-clamp2": (Clamped(2.0), mapped), "adapted-clamp15": (Clamped(1.5), mapped)}


class SmoothPull(AdaptedConverter):
    """The default converter with the map's correction of WORLD's envelope (learned − mapped)
    smoothed over ``frames`` before the blend: the timbre moved, the source's fast formant
    movements kept."""

    def __init__(self, frames: int):
        super().__init__()
        self.frames = frames

    def pulled_mcep(self, an, mapped, envelope, blend, strength, rows=slice(None)):
        from scipy.ndimage import uniform_filter1d

        correction = uniform_filter1d(envelope - mapped[:, 1:], self.frames, axis=0, mode="nearest")
        return super().pulled_mcep(an, mapped, mapped[:, 1:] + correction, blend, strength, rows)


def smooth_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """``--smooth-map``: the default converter and its map's correction smoothed in time."""
    adapted = AdaptedConverter()
    mapped = {**feats, **adapted.adaptation(pairs)}
    return {"adapted": (adapted, mapped), "adapted-smooth11": (SmoothPull(11), mapped),
            "adapted-smooth31": (SmoothPull(31), mapped)}


def warp_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """``--warp``: the default converter and world-auto, each without and with the warp chosen
    per voice on the calibration text."""
    adapted, warped_adapted = AdaptedConverter(), WarpedAdapted()
    mapped = {**feats, **adapted.adaptation(pairs)}
    calibration = speak_at(calibration_text("en"), 1.0)
    chosen_warp(warped_adapted, calibration, mapped)
    auto = WarpedAuto()
    chosen_warp(auto, calibration, feats)
    return {"adapted": (adapted, mapped), "adapted-warp": (warped_adapted, mapped),
            "world-auto-warp": (auto, feats)}


PITCHES = PITCH_CHOICES
"""``--pitch``: semitones over the mapped pitch the speaker encoder chooses from."""


class PitchChoice:
    """``conv`` with a pitch offset of :data:`PITCHES` chosen by the speaker encoder: per
    utterance, on the output itself (``per_voice`` None), or once per voice on ``per_voice``
    (the calibration speech), as world-auto chooses its strength."""

    def __init__(self, conv, target, per_voice=None) -> None:
        self.conv, self.fixed = conv, None
        if per_voice is not None:
            self.fixed = PITCHES[self._best([self._at(per_voice, target, ConvertSettings(f0_method="dio"), p)
                                             for p in PITCHES], target)]
            print("chosen pitch", self.fixed, flush=True)

    def _at(self, audio, target, settings, pitch):
        return self.conv.convert(audio, target, replace(settings, pitch_shift=pitch))

    @staticmethod
    def _best(outs, target) -> int:
        goal = np.asarray(target["embedding"], dtype=np.float32)
        return int(np.argmax([cosine(speaker_encoder().embed(o), goal) for o in outs]))

    def convert(self, audio, target, settings):
        if self.fixed is not None:
            return self._at(audio, target, settings, self.fixed)
        outs = [self._at(audio, target, settings, p) for p in PITCHES]
        return outs[self._best(outs, target)]


def pitch_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """``--pitch``: the default converter and world-auto, each with a pitch offset chosen by
    the encoder per utterance, and the default converter with one chosen per voice on the
    calibration text (on the converter without its own choice)."""
    adapted = AdaptedConverter(pitches=())
    mapped = {**feats, **adapted.adaptation(pairs)}
    calibration = speak_at(calibration_text("en"), 1.0)
    auto = AutoWorldConverter()
    return {"adapted": (adapted, mapped),
            "adapted-pitch": (PitchChoice(adapted, mapped), mapped),
            "adapted-pitch-voice": (PitchChoice(adapted, mapped, calibration), mapped),
            "world-auto-pitch": (PitchChoice(auto, feats), feats)}


def pitch_head_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """``--pitch-head``: the default converter without and with its own pitch choice (the
    offset of :data:`PITCHES` chosen on its conversion of the utterance's head, as shipped);
    ``adapted`` is the converter before the choice came on by default;
    both read the same learned map."""
    adapted = AdaptedConverter(pitches=())
    mapped = {**feats, **adapted.adaptation(pairs)}
    return {"adapted": (adapted, mapped),
            "adapted-pitch-head": (AdaptedConverter(pitches=PITCHES), mapped)}


def spread_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """``--spread``: the default converter as shipped, and with ``spread`` (the same map)."""
    adapted = AdaptedConverter()
    mapped = {**feats, **adapted.adaptation(pairs)}
    return {"adapted": (adapted, mapped), "adapted-spread": (AdaptedConverter(spread=True), mapped)}


def main(sets: str, speakers: str, out_path: str, mode: str = "") -> None:
    scorer, tts = Scorer(dnsmos=False), KokoroTTS()
    auto = AutoWorldConverter()
    wanted = set(speakers.split(",")) if speakers else None
    splits = [s for name in sets.split(",") for s in split_speakers(DATA / name, 20.0, 2, 0)[0]
              if wanted is None or s.speaker in wanted]
    rows: list[dict] = []
    for split in splits:
        clips = [load(u.path) for u in split.enrol]
        refs = [scorer.embed(load(u.path)) for u in split.score]
        feats = auto.features(clips)
        feats["embedding"] = speaker_encoder().embed_many(clips).tolist()
        style = cached_search(clips, StyleSearchConfig(effort=1.0, budget_s=1e9, max_steps=6), tts=tts).table
        speak = lambda text: tts.synthesize(text, "en", style_table=style)  # noqa: E731
        speak_at = lambda text, speed: tts.synthesize(text, "en", style=Style(speed=speed),  # noqa: E731
                                                       style_table=style)
        start = time.perf_counter()
        texts = [transcribe(c, "en", words=False).text for c in clips]
        pairs = parallel_pairs(clips, texts, speak, AdaptedConverter(frame_map=RECORDED, **MAP_ONLY))
        build_s = time.perf_counter() - start
        convs = (combined_variants(clips, pairs, feats) if mode == "--combined"
                 else lever_variants(clips, texts, pairs, feats, speak_at) if mode == "--levers"
                 else speed_variants(clips, texts, pairs, feats, speak_at) if mode == "--speeds"
                 else guided_variants(clips, texts, pairs, feats, speak_at) if mode == "--guided"
                 else prosody_variants(clips, texts, pairs, feats, speak_at) if mode == "--prosody"
                 else texture_variants(clips, texts, pairs, feats, speak_at) if mode == "--texture"
                 else f0map_variants(clips, texts, pairs, feats, speak_at) if mode == "--f0map"
                 else energy_variants(clips, texts, pairs, feats, speak_at) if mode == "--energy"
                 else harvest_variants(clips, texts, speak) if mode == "--harvest"
                 else warp_variants(clips, texts, pairs, feats, speak_at) if mode == "--warp"
                 else clamp_variants(clips, texts, pairs, feats, speak_at) if mode == "--f0-clamp"
                 else smooth_variants(clips, texts, pairs, feats, speak_at) if mode == "--smooth-map"
                 else pitch_variants(clips, texts, pairs, feats, speak_at) if mode == "--pitch"
                 else pitch_head_variants(clips, texts, pairs, feats, speak_at)
                 if mode == "--pitch-head"
                 else spread_variants(clips, texts, pairs, feats, speak_at) if mode == "--spread"
                 else {})
        for name, kw in {"--combined": {}, "--residual": RESIDUAL, "--levers": {},
                         "--speeds": {}, "--guided": {}, "--prosody": {},
                         "--texture": {}, "--f0map": {}, "--warp": {}, "--f0-clamp": {},
                         "--smooth-map": {}, "--pitch": {}, "--pitch-head": {}, "--spread": {},
                         "--energy": {}, "--intonation": INTONATION,
                         "--intonation-low": INTONATION_LOW,
                         "--harvest": HARVEST, "--capacity": CAPACITY,
                         "--smaller": SMALLER, "--f0-smooth": F0_SMOOTH}.get(mode, VARIANTS).items():
            own = ("blend", "residual", "f0_blend", "dynamics", "f0_smooth")
            conv = AdaptedConverter(frame_map=FrameMapConfig(**{"steps": RECORDED.steps,
                                                                **{k: v for k, v in kw.items()
                                                                   if k not in own}}),
                                    **{**MAP_ONLY, **{k: v for k, v in kw.items() if k in own}})
            start = time.perf_counter()
            convs[name] = (conv, {**feats, **conv.adaptation(pairs)})
            print(name, "trained in", round(time.perf_counter() - start, 1), "s; pairs built in",
                  round(build_s, 1), "s", flush=True)
        convs["world-auto"] = (auto, feats)
        for i, text in enumerate(split.texts):
            src = speak(_speakable(text))
            row = {"speaker": split.speaker, "gender": split.gender, "i": i}
            rows.append({**row, "method": "source", **{k: scorer.score(src, refs, text)[k] for k in KEYS}})
            for name, (conv, f, *tracker) in convs.items():
                settings = ConvertSettings(f0_method=(tracker or ["dio"])[0])
                out = conv.convert(src, f, settings)  # type: ignore[call-arg]
                scored = scorer.score(out, refs, text)
                rows.append({**row, "method": name, **{k: scored[k] for k in KEYS}})
                print(rows[-1], flush=True)
        Path(out_path).write_text(json.dumps(rows, indent=1))
    summary: dict[str, dict[str, float]] = {}
    for r in rows:
        s = summary.setdefault(r["method"], {k: 0.0 for k in KEYS} | {"n": 0})
        for k in KEYS:
            s[k] += r[k]
        s["n"] += 1
    for name, s in summary.items():
        print(name, {k: round(s[k] / s["n"], 4) for k in KEYS}, "n", s["n"])


if __name__ == "__main__":
    main(*sys.argv[1:5])

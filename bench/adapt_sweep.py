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
voice's log-F0 distribution (quantiles) and its declination per phrase.
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
from voxclone.convert.frame_map import FrameMap, FrameMapConfig
from voxclone.convert.knn import KnnConverter
from voxclone.convert.matching_set import MatchingSet
from voxclone.convert.world import WorldConverter
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
RESIDUAL = {"adapt-b05": {"blend": 0.5}, "residual-b05": {"blend": 0.5, "residual": True},
            "residual-b075": {"blend": 0.75, "residual": True}, "residual-b1": {"blend": 1.0, "residual": True}}
"""``--residual``: the map of target less WORLD's mapped envelope, against the default map."""
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
    adapted, knn = AdaptedConverter(), knn_converter()
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
            out = AdaptedConverter(blend=blend).convert(
                calibration, target, ConvertSettings(strength=fraction, f0_method="dio"))
            scores[(blend, fraction)] = cosine(speaker_encoder().embed(out), goal)
        self.choice = max(scores, key=scores.get)
        print("chosen blend/strength", self.choice, flush=True)
        self.conv = AdaptedConverter(blend=self.choice[0])

    def convert(self, audio, target, settings):
        return self.conv.convert(audio, target, replace(settings, strength=self.choice[1]))


class LowFull(AdaptedConverter):
    """The map at blend 1 on c1–c8 and at the default blend on the rest."""

    def __init__(self):
        super().__init__()
        self.blend = np.where(np.arange(self.config.order) < 8, 1.0, self.blend)


def lever_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """The default map, the blend/strength chosen per voice, low-full."""
    adapted = AdaptedConverter()
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
    base = knn_converter()
    parts = [base.analyze(c, base.config.target_f0_method, False) for c in clips]
    mapped = {**mapped, "matching_set": base.matching_set(clips, parts).to_text()}
    out["adapted"] = (adapted, mapped)
    for weight in (0.1, 1.0):
        knn = knn_converter(knn=KnnConfig(guide_weight=weight))
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
        super().__init__()
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
    adapted = AdaptedConverter()
    mapped = {**feats, **adapted.adaptation(pairs)}
    base = prosody([p.source for p in pairs])
    target = prosody([adapted.analyze(c, adapted.config.target_f0_method, False) for c in clips])
    print("declination base", round(base["slope"], 4), "target", round(target["slope"], 4), flush=True)
    out = {"adapted": (adapted, mapped)}
    for name, shape, slope in (("f0-shape", True, False), ("f0-slope", False, True),
                               ("f0-shape+slope", True, True)):
        out[f"adapted-{name}"] = (Prosodic(base, target, shape, slope), mapped)
    return out


def speed_variants(clips, texts, pairs, feats, speak_at) -> dict:
    """The default map, and the map learned from pairs at speeds 0.9, 1 and 1.1."""
    adapted = AdaptedConverter()
    extra = [p for speed in (0.9, 1.1)
             for p in parallel_pairs(clips, texts, lambda t, s=speed: speak_at(t, s), adapted)]
    return {"adapted": (adapted, {**feats, **adapted.adaptation(pairs)}),
            "adapted-speeds": (adapted, {**feats, **adapted.adaptation(pairs + extra)})}


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
        pairs = parallel_pairs(clips, texts, speak, AdaptedConverter())
        build_s = time.perf_counter() - start
        convs = (combined_variants(clips, pairs, feats) if mode == "--combined"
                 else lever_variants(clips, texts, pairs, feats, speak_at) if mode == "--levers"
                 else speed_variants(clips, texts, pairs, feats, speak_at) if mode == "--speeds"
                 else guided_variants(clips, texts, pairs, feats, speak_at) if mode == "--guided"
                 else prosody_variants(clips, texts, pairs, feats, speak_at) if mode == "--prosody"
                 else {})
        for name, kw in {"--combined": {}, "--residual": RESIDUAL, "--levers": {},
                         "--speeds": {}, "--guided": {}, "--prosody": {}}.get(mode, VARIANTS).items():
            conv = AdaptedConverter(frame_map=FrameMapConfig(**{k: v for k, v in kw.items()
                                                                 if k not in ("blend", "residual")}),
                                    blend=kw["blend"], residual=kw.get("residual", False))
            start = time.perf_counter()
            convs[name] = (conv, {**feats, **conv.adaptation(pairs)})
            print(name, "trained in", round(time.perf_counter() - start, 1), "s; pairs built in",
                  round(build_s, 1), "s", flush=True)
        convs["world-auto"] = (auto, feats)
        for i, text in enumerate(split.texts):
            src = speak(_speakable(text))
            row = {"speaker": split.speaker, "gender": split.gender, "i": i}
            rows.append({**row, "method": "source", **{k: scorer.score(src, refs, text)[k] for k in KEYS}})
            for name, (conv, f) in convs.items():
                out = conv.convert(src, f, ConvertSettings(f0_method="dio"))  # type: ignore[call-arg]
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

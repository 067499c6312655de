"""Which part of the speech carries the speaker: oracle swaps on parallel speech.

For each dev speaker, every enrolment clip (up to 30 s) and Kokoro (the searched style of
``adapt_sweep.py``) saying its transcript are analysed by WORLD and aligned as the adaptation
aligns them (DTW on Whisper encoder block 3). Then Kokoro's analysis is given, frame by frame
along the alignment, the clip's own spectral envelope (c1.., c0 kept), then also its
aperiodicity, then also its F0 — each synthesised at Kokoro's timing — and scored against the
speaker's held-out clips with both judges and Whisper WER beside WORLD's mean/variance map and
the in-sample learned map. The real clip and its plain WORLD resynthesis (the clip's own timing)
close the table. It says what a perfect envelope map would give, and what is left to F0,
aperiodicity and timing.

    python bench/oracle_parts.py librispeech-other,vctk,ljspeech rows.json
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from voxclone.asr.encoder import FRAME_S, MAX_SECONDS, phonetic_keys
from voxclone.audio.io import load
from voxclone.convert.adapted import AdaptedConverter, ParallelUtterance
from voxclone.convert.frame_map import FrameMapConfig
from voxclone.convert.base import ConvertSettings
from voxclone.eval.dataset import split_speakers
from voxclone.eval.scoring import Scorer
from voxclone.pipeline.adapt import ALIGN_LAYER, align_windows, frame_path
from voxclone.pipeline.kokoro_clone import StyleSearchConfig
from voxclone.pipeline.style_cache import cached_search
from voxclone.tts.kokoro import KokoroTTS

DATA = Path(__file__).resolve().parents[2] / "shared" / "eval-data"
KEYS = ("similarity", "similarity_dvec", "wer")
DIO = ConvertSettings(f0_method="dio")


def aligned(path: np.ndarray, n_source: int) -> np.ndarray:
    """For each source frame, the index of its last matched target frame (T_s,)."""
    out = np.zeros(n_source, dtype=np.int64)
    out[path[:, 0]] = path[:, 1]
    return np.maximum.accumulate(out)  # frames DTW skipped take the previous match


def swaps(conv: AdaptedConverter, base, clip, text: str, feats: dict, learned: dict):
    """(name, audio) of every oracle swap of ``clip`` into ``base`` (Kokoro saying ``text``)."""
    src = conv.analyze(base, "dio")
    tgt = conv.analyze(clip, conv.config.target_f0_method)
    keys = partial(phonetic_keys, layer=ALIGN_LAYER)
    per_window = round(FRAME_S * 1000.0 / conv.config.frame_period_ms)
    path = frame_path(align_windows(keys(base), keys(clip)), per_window, len(src.f0), len(tgt.f0))
    idx = aligned(path, len(src.f0))
    stats = conv._stats([src])
    mapped = conv.mapped_mcep(src, stats, feats, 1.0)
    both = src.speech & tgt.speech[idx]
    env = mapped.copy()
    env[both, 1:] = tgt.mcep[idx[both], 1:]
    tgt_stats = conv._stats([tgt])
    out = [("world", conv.synthesize(src, mapped, stats, feats, DIO)),
           ("adapted (in-sample map)", conv.convert(base, {**feats, **learned}, DIO)),
           ("oracle envelope", conv.synthesize(src, env, stats, feats, DIO)),
           ("oracle envelope + aperiodicity",
            conv.synthesize(replace(src, ap=tgt.ap[idx]), env, stats, feats, DIO))]
    # the clip's own F0 (its statistics as source and target: no further mapping)
    own_f0 = replace(src, ap=tgt.ap[idx], f0=tgt.f0[idx])
    out.append(("oracle envelope + aperiodicity + F0",
                conv.synthesize(own_f0, env, tgt_stats, tgt_stats, DIO)))
    out.append(("oracle F0 alone", conv.synthesize(replace(src, f0=tgt.f0[idx]), mapped,
                                                   tgt_stats, tgt_stats, DIO)))
    out.append(("real clip", clip))
    out.append(("real clip through WORLD", conv.synthesize(tgt, tgt.mcep, tgt_stats, tgt_stats, DIO)))
    return out


def main(sets: str, out_path: str) -> None:
    scorer, tts = Scorer(dnsmos=False), KokoroTTS()
    # the envelope map alone, trained as measured
    conv = AdaptedConverter(frame_map=FrameMapConfig(steps=1500), f0_blend=0.0, dynamics=False)
    rows: list[dict] = []
    for name in sets.split(","):
        for split in split_speakers(DATA / name, 20.0, 2, 0)[0]:
            clips = [load(u.path) for u in split.enrol]
            refs = [scorer.embed(load(u.path)) for u in split.score]
            feats = conv.features(clips)
            style = cached_search(clips, StyleSearchConfig(effort=1.0, budget_s=1e9, max_steps=6),
                                  tts=tts).table
            speak = lambda text: tts.synthesize(text, "en", style_table=style)  # noqa: E731
            usable = [(c, u.transcript) for c, u in zip(clips, split.enrol)
                      if c.duration <= MAX_SECONDS and u.transcript.strip()]
            bases = [speak(t) for _, t in usable]
            pairs = []
            for (clip, _), base in zip(usable, bases):
                src, tgt = conv.analyze(base, "dio", False), conv.analyze(clip, "harvest", False)
                per_window = round(FRAME_S * 1000.0 / conv.config.frame_period_ms)
                keys = partial(phonetic_keys, layer=ALIGN_LAYER)
                pairs.append(ParallelUtterance(src, tgt, frame_path(
                    align_windows(keys(base), keys(clip)), per_window, len(src.f0), len(tgt.f0))))
            learned = conv.adaptation(pairs)
            for (clip, text), base in zip(usable, bases):
                for method, audio in swaps(conv, base, clip, text, feats, learned):
                    scored = scorer.score(audio, refs, text)
                    rows.append({"speaker": split.speaker, "method": method,
                                 **{k: scored[k] for k in KEYS}})
                    print(rows[-1], flush=True)
            Path(out_path).write_text(json.dumps(rows, indent=1))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    for method in methods:
        got = [r for r in rows if r["method"] == method]
        print(method, {k: round(sum(r[k] for r in got) / len(got), 4) for k in KEYS}, "n", len(got))


if __name__ == "__main__":
    main(*sys.argv[1:3])

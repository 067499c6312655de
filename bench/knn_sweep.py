"""Sweep knn converter settings against world / world-auto on a few dev speakers.

Each speaker's clips are analysed once; every variant converts the same Kokoro speech (a style
searched for a fixed number of steps) and, for conversion, another speaker's held-out clip.
Both judges and Whisper WER score every output; rows go to a JSON file.

    python bench/knn_sweep.py librispeech-other,vctk 1688,1998,p225,p226 \
        '{"l1-b25": {"layer": 1, "blend": 0.25}, "l3-b50": {"layer": 3, "blend": 0.5}}' rows.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio.io import load
from voxclone.audio.speaker import speaker_encoder
from voxclone.audio.types import Audio
from voxclone.convert.base import ConvertSettings
from voxclone.convert.knn import KnnConfig, KnnConverter
from voxclone.pipeline.knn import knn_converter
from voxclone.convert.spectral_classes import fit_classes
from voxclone.convert.world import WorldConverter
from voxclone.convert.world_auto import AutoWorldConverter
from voxclone.eval.dataset import split_speakers
from voxclone.eval.runner import _speakable
from voxclone.eval.scoring import Scorer
from voxclone.pipeline.kokoro_clone import StyleSearchConfig
from voxclone.pipeline.style_cache import cached_search
from voxclone.tts.kokoro import KokoroTTS

DATA = Path(__file__).resolve().parents[2] / "shared" / "eval-data"
KEYS = ("similarity", "similarity_dvec", "wer")


def features(convs: dict[str, Any], clips: list[Audio]) -> dict[str, dict]:
    """Every converter's target features from one WORLD analysis of the clips."""
    world = convs["world"]
    parts = [world.analyze(c, "harvest") for c in clips]
    base = world._stats(parts)
    voiced = np.concatenate([(p.f0 > 0) & p.speech for p in parts])
    base["classes"] = fit_classes(np.concatenate([p.mcep for p in parts])[voiced][:, 1:], 8)
    base["embedding"] = speaker_encoder().embed_many(clips).tolist()
    out, sets = {"world": base, "world-auto": base}, {}
    for name, conv in convs.items():
        if isinstance(conv, KnnConverter):
            key = (conv.knn.encoder, conv.knn.layer, conv.knn.center)
            if key not in sets:
                sets[key] = conv.matching_set(clips, parts).to_text()
            out[name] = {**base, "matching_set": sets[key]}
    return out


def main(sets: str, speakers: str, variants: str, out_path: str) -> None:
    scorer, tts = Scorer(dnsmos=False), KokoroTTS()
    convs: dict[str, Any] = {"world": WorldConverter(), "world-auto": AutoWorldConverter()}
    convs.update({n: knn_converter(knn=KnnConfig(**kw), warps=(), pitches=()) for n, kw in json.loads(variants).items()})
    splits = [s for name in sets.split(",") for s in split_speakers(DATA / name, 20.0, 2, 0)[0]
              if s.speaker in speakers.split(",")]
    rows: list[dict] = []
    for split in splits:
        clips = [load(u.path) for u in split.enrol]
        refs = [scorer.embed(load(u.path)) for u in split.score]
        feats = features(convs, clips)
        style = cached_search(clips, StyleSearchConfig(effort=1.0, budget_s=1e9, max_steps=6), tts=tts).table
        others = [s for s in splits if s.set_name == split.set_name and s.speaker != split.speaker]
        jobs = [("tts", i, _speakable(t), tts.synthesize(_speakable(t), "en", style_table=style))
                for i, t in enumerate(split.texts)]
        if others:
            utt = others[0].ceiling[0]
            jobs.append(("vc", 0, utt.transcript, load(utt.path)))
        for kind, i, text, src in jobs:
            settings = ConvertSettings(f0_method="dio" if kind == "tts" else "harvest")
            row = {"speaker": split.speaker, "gender": split.gender, "kind": kind, "i": i}
            rows.append({**row, "method": "source", **{k: scorer.score(src, refs, text)[k] for k in KEYS}})
            for name, conv in convs.items():
                if kind == "vc" and name == "world-auto":
                    continue
                scored = scorer.score(conv.convert(src, feats[name], settings), refs, text)
                rows.append({**row, "method": name, **{k: scored[k] for k in KEYS}})
                print(rows[-1], flush=True)
        Path(out_path).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:5])

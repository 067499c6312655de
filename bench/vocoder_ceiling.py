"""How much of a real recording's similarity survives WORLD analysis and resynthesis.

Every WORLD-based converter (world, world-auto, knn, adapted) ends in the same vocoder: the
mel-cepstral envelope (order 34 at 22.05 kHz), band aperiodicity and F0 of its analysis. This
scores each dev speaker's held-out real clips as they are, and resynthesised through that path
unchanged (F0 by harvest, as a voice's clips are analysed, or by dio, as base speech is) —
the ceiling of any envelope map that ends in this vocoder, by both judges and Whisper WER.

    python bench/vocoder_ceiling.py librispeech-other,vctk,ljspeech rows.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from voxclone.audio.io import load
from voxclone.convert.base import ConvertSettings
from voxclone.convert.world import WorldConverter
from voxclone.eval.dataset import split_speakers
from voxclone.eval.scoring import Scorer

DATA = Path(__file__).resolve().parents[2] / "shared" / "eval-data"
KEYS = ("similarity", "similarity_dvec", "wer")


def resynthesised(conv: WorldConverter, audio, f0_method: str):
    """``audio`` through WORLD analysis and synthesis with nothing mapped."""
    an = conv.analyze(audio, f0_method)
    stats = conv._stats([an])
    return conv.synthesize(an, an.mcep, stats, stats, ConvertSettings(f0_method=f0_method))


def main(sets: str, out_path: str) -> None:
    scorer, conv = Scorer(dnsmos=False), WorldConverter()
    rows = []
    for name in sets.split(","):
        for split in split_speakers(DATA / name, 20.0, 2, 0)[0]:
            refs = [scorer.embed(load(u.path)) for u in split.score]
            for utt in split.ceiling:
                real = load(utt.path)
                for method, audio in (("real", real), ("world-harvest", resynthesised(conv, real, "harvest")),
                                      ("world-dio", resynthesised(conv, real, "dio"))):
                    scored = scorer.score(audio, refs, utt.transcript)
                    rows.append({"speaker": split.speaker, "method": method, **{k: scored[k] for k in KEYS}})
                    print(rows[-1], flush=True)
    Path(out_path).write_text(json.dumps(rows, indent=1))
    for method in ("real", "world-harvest", "world-dio"):
        got = [r for r in rows if r["method"] == method]
        print(method, {k: round(sum(r[k] for r in got) / len(got), 4) for k in KEYS}, "n", len(got))


if __name__ == "__main__":
    main(*sys.argv[1:3])

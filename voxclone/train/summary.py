"""Summarise a training run's log.jsonl: ``python -m voxclone.train.summary RUN_DIR [DATA_DIR]``;
with the data folder, each sample (and the codec's own resynthesis of the utterance it speaks) is
also transcribed by voxclone.asr and scored (WER) against the text it should say."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def summarise(run_dir: str | Path) -> dict[str, Any]:
    """First/last train losses, validation records, data codebook use and sample flags."""
    records = [json.loads(x) for x in (Path(run_dir) / "log.jsonl").read_text().splitlines() if x.strip()]
    train = [r for r in records if "ar_loss" in r and "step" in r]
    val = [r for r in records if "val_ar_loss" in r]
    usage = next((r["codebook"] for r in records if "codebook" in r), [])
    keys = ("step", "ar_loss", "ar_acc", "nar_loss", "nar_acc", "teacher_forcing", "replaced", "grad_norm")
    pick = lambda r, ks: {k: r.get(k) for k in ks}  # noqa: E731
    return {
        "steps": train[-1]["step"] if train else 0,
        "first": pick(train[0], keys) if train else None,
        "last": pick(train[-1], keys) if train else None,
        "val": [pick(r, ("step", "val_ar_loss", "val_ar_acc", "val_nar_loss", "val_nar_acc",
                        "val_pred_perplexity", "val_pred_dead", "attn_entropy_ar")) for r in val],
        "data_codebook": [{k: round(v, 1) for k, v in u.items()} for u in usage],
        "samples": [pick(r, ("step", "sample", "sample_seconds", "expected_seconds", "flags"))
                    for r in records if "sample" in r],
        "nonfinite_steps": max((r.get("nonfinite_steps", 0) for r in train), default=0),
        "spikes": [r["step"] for r in records if "spike_z" in r],
    }


def score_samples(run_dir: str | Path, data_dir: str | Path) -> list[dict[str, Any]]:
    """WER of each sample and of the codec resynthesis of its target utterance (the ceiling)."""
    from voxclone.asr import transcribe, wer
    from voxclone.audio.io import load
    from voxclone.codeclm.codec import load_codec
    from voxclone.train.data import read_metadata

    texts = {u.id: u for u in read_metadata(data_dir, "all")}
    codec = load_codec(Path(run_dir) / "codec")
    out = []
    for rec in summarise(run_dir)["samples"]:
        full = next(r for r in _records(run_dir) if r.get("sample") == rec["sample"])
        utt = texts.get(full.get("text_id") or read_metadata(data_dir, "val")[0].id)
        heard = transcribe(load(rec["sample"]), "en").text
        resynth = transcribe(codec.decode(codec.encode(load(utt.path))), "en").text
        out.append({"step": rec["step"], "text": utt.text, "sample_heard": heard,
                    "sample_wer": wer(utt.text, heard), "codec_resynth_heard": resynth,
                    "codec_resynth_wer": wer(utt.text, resynth)})
    return out


def _records(run_dir: str | Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (Path(run_dir) / "log.jsonl").read_text().splitlines() if x.strip()]


if __name__ == "__main__":
    result = summarise(sys.argv[1])
    if len(sys.argv) > 2:
        result["sample_scores"] = score_samples(sys.argv[1], sys.argv[2])
    print(json.dumps(result, indent=1))

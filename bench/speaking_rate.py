"""Speaking at the voice's own pace (``--match-rate``), measured on the development set.

For each English dev speaker (held-out clips and texts, as ``voxclone eval`` splits them): the
voice's articulation rate from its enrolment clips (transcripts vs what Whisper hears), the
rate of its held-out clips, and ``kokoro:world-auto`` speaking the held-out texts with and
without rate matching: the output's rate against both, the two speaker judges and Whisper WER.

    python bench/speaking_rate.py [--speakers 9]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from pathlib import Path
from typing import Any

from voxclone.audio.io import load
from voxclone.config import Settings
from voxclone.eval.bench_files import save_results
from voxclone.eval.bench_first_use import _home_with_bundled
from voxclone.eval.dataset import find_sets, split_speakers
from voxclone.eval.scoring import Scorer
from voxclone.pipeline import PipelineConfig, VoiceCloner
from voxclone.pipeline import speaking_rate as sr

EVAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval-data"


def run(root: Path, speakers: int) -> dict[str, Any]:
    """Rows per output and the means per setting."""
    splits = [s for d in find_sets(root) if d.name != "multilingual"
              for s in split_speakers(d, 20.0, 2)[0]][:speakers]
    scorer = Scorer(dnsmos=False)
    home = _home_with_bundled(Settings())
    rows = []
    try:
        for split in splits:
            refs = [scorer.embed(load(u.path)) for u in split.score]
            enrol = [load(u.path) for u in split.enrol]
            written = sr.rate([(a, u.transcript) for a, u in zip(enrol, split.enrol)], split.lang)
            heard = sr.voice_rate(enrol, [str(u.path) for u in split.enrol], split.lang, None)
            held = sr.rate([(load(u.path), u.transcript) for u in split.score], split.lang)
            for match in (False, True):
                cloner = VoiceCloner(PipelineConfig(tts="kokoro", converter="world-auto",
                                                    match_rate=match), settings=home)
                cloner.library.add("dev", [u.path for u in split.enrol], replace=True)
                for text in split.texts:
                    audio = cloner.say(text, "dev", split.lang)
                    score = scorer.score(audio, refs, text, lang=split.lang)
                    rows.append({"speaker": split.key, "match_rate": match,
                                 "enrol_rate_transcripts": round(written, 3),
                                 "enrol_rate_heard": round(heard, 3), "held_out_rate": round(held, 3),
                                 "output_rate": round(sr.rate([(audio, text)], split.lang), 3),
                                 "resemblyzer": score["similarity"],
                                 "dvector": score["similarity_dvec"], "wer": score.get("wer")})
                    print(rows[-1], flush=True)
    finally:
        shutil.rmtree(home.home, ignore_errors=True)
    return {"rows": rows, "means": _means(rows)}


def _means(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def err(r: dict[str, Any], key: str) -> float:
        return abs(r["output_rate"] - r[key]) / r[key]

    out: dict[str, Any] = {}
    for match in (False, True):
        mine = [r for r in rows if r["match_rate"] is match]
        out["matched" if match else "engine's pace"] = {
            "outputs": len(mine),
            "rate_error_vs_enrolment": round(statistics.mean(err(r, "enrol_rate_heard") for r in mine), 3),
            "rate_error_vs_held_out": round(statistics.mean(err(r, "held_out_rate") for r in mine), 3),
            **{k: round(statistics.mean(r[k] for r in mine), 4) for k in ("resemblyzer", "dvector", "wer")}}
    by_speaker = {r["speaker"]: r for r in rows}.values()
    out["held_out_vs_enrolment_rate_error"] = round(statistics.mean(
        abs(r["enrol_rate_heard"] - r["held_out_rate"]) / r["held_out_rate"] for r in by_speaker), 3)
    out["heard_vs_transcript_rate_error"] = round(statistics.mean(
        abs(r["enrol_rate_heard"] - r["enrol_rate_transcripts"]) / r["enrol_rate_transcripts"]
        for r in by_speaker), 3)
    return out


def markdown(results: dict[str, Any]) -> str:
    """The means as a Markdown table."""
    m = results["means"]
    lines = ["| kokoro:world-auto | outputs | rate error vs enrolment | vs held-out clips | "
             "resemblyzer | d-vector | WER |", "|---|---|---|---|---|---|---|"]
    for name in ("engine's pace", "matched"):
        r = m[name]
        lines.append(f"| {name} | {r['outputs']} | {r['rate_error_vs_enrolment']:.3f} | "
                     f"{r['rate_error_vs_held_out']:.3f} | {r['resemblyzer']:.3f} | "
                     f"{r['dvector']:.3f} | {r['wer']:.3f} |")
    lines.append(f"\nA speaker's held-out clips differ from its enrolment rate by "
                 f"{m['held_out_vs_enrolment_rate_error']:.3f} on average (the floor for any one "
                 f"rate per voice); the rate heard by Whisper differs from the transcripts' by "
                 f"{m['heard_vs_transcript_rate_error']:.3f}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speakers", type=int, default=9)
    parser.add_argument("--eval-data", default=str(EVAL_DATA))
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args()
    results = run(Path(args.eval_data), args.speakers)
    table = markdown(results)
    print(table)
    print(f"\nsaved {save_results('speaking-rate', results, table, args.out)}")


if __name__ == "__main__":
    main()

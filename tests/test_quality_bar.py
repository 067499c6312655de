"""The foundation's quality bar on real speech (../shared/eval-data; skipped when absent).

Cloned TTS output must beat the raw base TTS by >= 0.10 speaker similarity on *both* judges
(resemblyzer, which the pipeline also selects with, and the d-vector referee, which selects
nothing; cosine to held-out clips of the target, enrolment from ~20 s), with Whisper WER no
worse than the raw base TTS + 0.10, on librispeech-other and vctk together. The real speaker's
English WER (the ceiling) must be <= 0.15: the recogniser itself is fit to judge.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from voxclone.config import Settings
from voxclone.eval.report import aggregate
from voxclone.eval.runner import CEILING, FLOOR_TTS, EvalConfig, run_eval

EVAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "eval-data"
SETS = ("librispeech-other", "vctk")

pytestmark = [pytest.mark.eval, pytest.mark.slow,
              pytest.mark.skipif(not EVAL_DATA.is_dir(), reason="../shared/eval-data is absent")]


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> dict[str, dict]:
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    cfg = EvalConfig(converters=(), dnsmos=False)
    items = []
    for name in SETS:
        items += run_eval(EVAL_DATA / name, cfg, settings=settings, progress=False).items
    return {r["method"]: r for r in aggregate(items)}


def test_cloning_beats_raw_base_tts_by_010(rows: dict[str, dict]) -> None:
    raw, clone = rows[FLOOR_TTS], rows["espeak:world"]
    print(f"similarity raw {raw['similarity']:.3f} cloned {clone['similarity']:.3f}; "
          f"referee raw {raw['similarity_dvec']:.3f} cloned {clone['similarity_dvec']:.3f}; "
          f"WER raw {raw['wer']:.3f} cloned {clone['wer']:.3f}")
    assert clone["similarity"] - raw["similarity"] >= 0.10
    assert clone["similarity_dvec"] - raw["similarity_dvec"] >= 0.10


def test_the_recogniser_is_fit_to_judge(rows: dict[str, dict]) -> None:
    assert rows[CEILING]["wer"] <= 0.15


def test_cloning_keeps_intelligibility(rows: dict[str, dict]) -> None:
    raw, clone = rows[FLOOR_TTS], rows["espeak:world"]
    assert clone["wer"] <= raw["wer"] + 0.10

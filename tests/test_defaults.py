"""Per-language default pipelines: the choice rule and its use."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxclone.errors import InvalidSetting, UnsupportedLanguage
from voxclone.eval.runner import texts_by_language
from voxclone.pipeline import PipelineConfig
from voxclone.pipeline.defaults import (EMBEDDED, MEASURED, OTHER_ENGINE_CONVERTER,
                                        choose_defaults, default_converter, default_pipeline,
                                        defaults_table)


def row(method: str, similarity: float, wer: float | None, kind: str = "tts",
        dvec: float | None = None, cer: float | None = None) -> dict:
    return {"method": method, "kind": kind, "similarity": similarity, "wer": wer,
            "similarity_dvec": dvec, "cer": cer}


def test_best_referee_similarity_among_pipelines_within_the_wer_window() -> None:
    rows = [row("espeak:world", 0.64, 0.30, dvec=0.55), row("kokoro:world", 0.70, 0.25, dvec=0.50),
            row("kokoro:none", 0.72, 0.32, dvec=0.60),  # best referee, but WER 0.07 worse
            row("piper:world", 0.60, 0.29, dvec=0.58),
            row("piper:none", 0.50, 0.10, dvec=0.9), row("raw-base-tts", 0.9, 0.1, kind="floor"),
            row("espeak:world@zh", 0.61, None, dvec=0.40, cer=0.50),
            row("kokoro:world@zh", 0.66, None, dvec=0.45, cer=0.58),
            row("kokoro:none@zh", 0.60, None, dvec=0.44, cer=0.52)]
    chosen = choose_defaults(rows)
    # The referee (d-vector) decides, not resemblyzer (which favours kokoro:world).
    assert chosen["en"].pipeline == "piper:world" and chosen["en"].wer == 0.29
    assert chosen["en"].similarity_dvec == 0.58 and chosen["en"].similarity == 0.60
    # CER counts where a language has no WER; kokoro:world is outside the 0.05 window there.
    assert chosen["zh"].pipeline == "kokoro:none" and chosen["zh"].wer == 0.52
    assert set(chosen) == {"en", "zh"}
    # A base engine speaking its own voice is a floor, not a cloning pipeline: never a default,
    # and its WER does not set the window.
    assert "| en | piper:world | 0.580 | 0.600 | 0.290 |" in defaults_table(chosen)


def test_resemblyzer_decides_for_rows_without_a_referee_score() -> None:
    chosen = choose_defaults([row("espeak:world", 0.64, 0.30), row("kokoro:world", 0.70, 0.33)])
    assert chosen["en"].pipeline == "kokoro:world"


def test_a_pipeline_without_wer_is_not_eligible_where_others_have_one() -> None:
    chosen = choose_defaults([row("espeak:world", 0.60, 0.70), row("kokoro:none", 0.9, None)])
    assert chosen["en"].pipeline == "espeak:world"


def test_default_pipeline_per_language() -> None:
    for lang in ("en", "es", "fr", "zh", "ja", "ko", "EN-us", "cmn"):
        tts, converter = default_pipeline(lang)
        chosen = MEASURED.get({"en-us": "en", "cmn": "zh"}.get(lang.lower(), lang.lower()))
        assert (tts, converter) == ((chosen.tts, chosen.converter) if chosen else EMBEDDED)
    with pytest.raises(UnsupportedLanguage):
        default_pipeline("xx")



def test_default_converter_of_another_engine() -> None:
    tts, converter = default_pipeline("en")
    assert default_converter("en", tts) == converter
    other = "espeak" if tts != "espeak" else "piper"
    assert default_converter("en", other) == OTHER_ENGINE_CONVERTER == "world-auto"


def test_effort_is_checked() -> None:
    assert PipelineConfig(effort="2.5").effort == 2.5
    assert PipelineConfig(effort="fast").effort == "fast"
    for bad in ("slowest", 0.0, 100.0):
        with pytest.raises(InvalidSetting):
            PipelineConfig(effort=bad)


def test_texts_by_language_reads_the_manifests(tmp_path: Path) -> None:
    (tmp_path / "manifest.tsv").write_text(
        "utt_id\tspeaker\tgender\tlang\tsample_rate\tduration_s\tpath\ttranscript\n"
        "b\ts1\t\tes\t16000\t2\tb.wav\tHola amigos.\n"
        "a\ts2\t\tes\t16000\t2\ta.wav\tBuenos días.\n"
        "c\ts3\t\tfr\t16000\t2\tc.wav\t\n")
    assert texts_by_language([tmp_path], ("es", "fr", "ja")) == {"es": "Buenos días."}

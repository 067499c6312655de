"""`voxclone eval` end to end on a tiny dataset made in the test, and the bench on short inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxclone.audio import save
from voxclone.config import Settings
from voxclone.eval.bench import BenchConfig, markdown, run_bench, write_results
from voxclone.eval.dataset import find_sets, split_speakers
from voxclone.eval.report import aggregate, write_outputs
from voxclone.eval.runner import CEILING, FLOOR_TTS, FLOOR_VC, EvalConfig, run_eval
from voxclone.tts import get_tts

SENTENCES = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
             "It is easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
             "Rice is often served in round bowls.", "The juice of lemons makes fine punch."]
SPEAKERS = {"spk_a": ("en-us+m1", "M"), "spk_b": ("en-gb+f3", "F")}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A set of two 'speakers' (espeak-ng voices), six clips each, with a manifest."""
    root = tmp_path_factory.mktemp("data") / "tiny"
    tts = get_tts("espeak")
    rows = ["utt_id\tspeaker\tgender\tlang\tsample_rate\tduration_s\tpath\ttranscript"]
    for speaker, (voice, gender) in SPEAKERS.items():
        for i, text in enumerate(SENTENCES):
            audio = tts.synthesize(text, "en", voice)
            rel = f"{speaker}/{speaker}_{i}.wav"
            save(audio, root / rel)
            rows.append(f"{speaker}_{i}\t{speaker}\t{gender}\ten\t{audio.sample_rate}\t"
                        f"{audio.duration:.3f}\t{rel}\t{text}")
    (root / "manifest.tsv").write_text("\n".join(rows) + "\n")
    return root


def test_split_keeps_scoring_clips_out_of_enrolment(dataset: Path) -> None:
    splits, skipped = split_speakers(dataset, ref_seconds=5.0, n_texts=2)
    assert not skipped and len(splits) == 2
    for s in splits:
        enrol_ids = {u.utt_id for u in s.enrol}
        assert enrol_ids and not enrol_ids & {u.utt_id for u in s.score + s.ceiling}
        assert len(s.texts) == 2
    assert find_sets(dataset.parent) == [dataset]


@pytest.mark.slow
def test_eval_end_to_end_writes_reports_and_is_deterministic(dataset: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    cfg = EvalConfig(ref_seconds=6.0, texts=1, vc_sources=1, dnsmos=True)
    run = run_eval(dataset, cfg, tmp_path / "out", settings=settings, progress=False)
    paths = write_outputs(run, dataset, tmp_path / "out")
    for key in ("results", "report", "methods_plot", "speakers_plot", "scatter_plot"):
        assert paths[key].is_file() and paths[key].stat().st_size > 0
    results = json.loads(paths["results"].read_text())
    rows = {r["method"]: r for r in results["aggregate"]}
    assert set(rows) == {FLOOR_TTS, FLOOR_VC, "espeak:world", "vc:world", CEILING}
    assert rows[CEILING]["similarity"] > 0.8  # same espeak voice, another sentence
    # Both judges score every item; Whisper scores intelligibility (espeak-ng, English).
    for item in results["items"]:
        assert -1.0 <= item["similarity_dvec"] <= 1.0 and -1.0 <= item["similarity"] <= 1.0
        assert item["wer"] is not None and item["hypothesis"] is not None
    assert rows[CEILING]["similarity_dvec"] > rows["espeak:world"]["similarity_dvec"] - 0.3
    assert rows["vc:world"]["source_similarity_dvec"] is not None
    assert rows[CEILING]["wer"] <= 0.5
    assert "Whisper" in results["manifest"]["asr"] and "referee" in results["manifest"]["judges"]
    assert "d-vector (referee)" in paths["report"].read_text()
    assert all(i["flags"] == [] for i in results["items"] if i["kind"] == "ceiling")
    assert all(1.0 <= r["dnsmos_ovrl"] <= 5.0 for r in results["aggregate"])
    assert "espeak" in results["manifest"]["espeak"].lower()
    assert "| method |" in paths["report"].read_text()
    again = run_eval(dataset, cfg, None, settings=settings, progress=False)
    assert [i["similarity"] for i in again.items] == [i["similarity"] for i in run.items]


@pytest.mark.slow
def test_bench_reports_stages_ratios_and_memory(tmp_path: Path) -> None:
    results = run_bench(BenchConfig(durations=(3.0,), runs=1, tts_engines=("espeak",), openvoice=False,
                                    judges=False, knn=False, adapt=False),
                        Settings(home=tmp_path / "home"))
    conv = results["conversion"][0]
    assert conv["rtf"] > 0 and set(conv["rtf_stages"]) == {"analysis", "conversion", "synthesis", "post"}
    assert results["f0"][0]["harvest_over_dio"] > 1.0
    assert results["tts"][0]["first_audio_ms"] > 0 and results["peak_rss_mb"] > 0
    assert results["enrolment_s_per_30s"] > 0
    path = write_results(results, tmp_path / "bench")
    assert json.loads(path.read_text())["conversion"][0]["rtf"] == conv["rtf"]
    assert "harvest/dio" in markdown(results)


@pytest.mark.slow
def test_conversion_rows_use_each_converters_own_profile(dataset: Path, tmp_path: Path) -> None:
    """knn needs its matching set: the run builds the profile with that converter."""
    cfg = EvalConfig(pipelines=(), converters=("world", "knn"), ref_seconds=8.0, texts=1,
                     vc_sources=1, dnsmos=False)
    run = run_eval(dataset, cfg, None, settings=Settings(home=tmp_path / "home"), progress=False)
    methods = {i["method"] for i in run.items}
    assert {"vc:world", "vc:knn"} <= methods
    assert all(i["similarity_dvec"] is not None for i in run.items if i["method"] == "vc:knn")


def test_bench_times_the_recognisers_and_both_judges() -> None:
    from voxclone.eval.bench import speech_of
    from voxclone.eval.bench_judges import judges_markdown, run_judges_bench

    rows = run_judges_bench(speech_of(2.0), runs=1)
    names = [r["instrument"] for r in rows]
    assert "d-vector" in names and "resemblyzer" in names and any("tiny.en" in n for n in names)
    assert all(r["cpu_s_per_s"] > 0 and r["rtf"] > 0 for r in rows), rows
    assert "| d-vector | speaker judge that referees |" in judges_markdown(rows, 2.0)


def test_runs_of_one_configuration_merge_into_one_report(tmp_path: Path) -> None:
    from dataclasses import asdict

    from voxclone.eval.report import merge_runs
    from voxclone.errors import InvalidSetting

    def results(name: str, config: EvalConfig, sim: float) -> Path:
        item = {"set": name, "speaker": "s", "method": "espeak:world", "kind": "tts",
                "similarity": sim, "similarity_dvec": sim - 0.1, "wer": 0.2, "flags": [], "rtf": 0.5}
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"manifest": {"config": asdict(config), "notes": [f"note {name}"],
                                                 "seconds": 10.0, "dataset": name},
                                    "items": [item]}))
        return path

    cfg = EvalConfig(pipelines=("espeak:world",), langs=("es",))
    run, datasets = merge_runs([results("a", cfg, 0.6), results("b", cfg, 0.8)])
    assert run.config == cfg and datasets == "a + b" and run.notes == ["note a", "note b"]
    row = aggregate(run.items)[0]
    assert row["n"] == 2 and row["similarity"] == 0.7 and row["similarity_dvec"] == 0.6
    with pytest.raises(InvalidSetting):
        merge_runs([results("a", cfg, 0.6), results("c", EvalConfig(texts=3), 0.6)])


def test_pipeline_specs_keep_an_engine_argument() -> None:
    from voxclone.eval.runner import _needs_clips, _pipeline_config, split_spec

    assert split_spec("kokoro:world-auto") == ("kokoro", "world-auto")
    assert split_spec("espeak") == ("espeak", "")
    assert split_spec("codec-lm:runs/me/checkpoints/step-200:none") == (
        "codec-lm:runs/me/checkpoints/step-200", "none")
    config = _pipeline_config("codec-lm:/tmp/x/step-1:none")
    assert config.tts == "codec-lm:/tmp/x/step-1" and config.converter == "none"
    assert _needs_clips(config) and not _needs_clips(_pipeline_config("espeak:world"))

"""Dataset preparation: corpus layouts, VAD splitting, filters, LJSpeech output, re-runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from voxclone.audio.io import load, save
from voxclone.audio.types import Audio
from voxclone.train.data import read_metadata
from voxclone.train.dataset import PrepareConfig, prepare_dataset, read_source
from voxclone.train.dataset.segment import plan_segments, split_recording
from voxclone.train.dataset.sources import read_hf
from voxclone.train.testing import ARCTIC_TEXT, arctic_clip

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval-data"


@dataclass
class FakeTranscript:
    text: str
    language: str = "en"


class FakeTranscriber:
    """Stands in for the ASR where the test is not about it: counts calls."""

    def __init__(self, text: str = "some words") -> None:
        self.text, self.calls = text, 0

    def __call__(self, audio: Audio, lang: str | None = None) -> FakeTranscript:
        self.calls += 1
        return FakeTranscript(self.text)


def _long_recording() -> Audio:
    """Three ARCTIC utterances with 1.5 s pauses: one 16 s recording."""
    clip = arctic_clip()
    gap = Audio(np.random.default_rng(0).normal(0, 1e-4, int(1.5 * clip.sample_rate)), clip.sample_rate)
    return Audio.concat([clip, gap, clip, gap, clip])


def test_plan_segments_respects_bounds():
    plan = plan_segments([(0.0, 3.0), (3.2, 6.0), (9.0, 40.0), (41.0, 41.5)], 1.0, 15.0, pad_s=0.0)
    assert plan[0] == (0.0, 6.0)
    assert all(1.0 <= b - a <= 15.0 for a, b in plan)
    assert len(plan) == 4  # 31 s cut into three, the 0.5 s blip dropped


def test_raw_recording_is_split_transcribed_and_written(tmp_path):
    save(_long_recording(), tmp_path / "talk.wav")
    fake = FakeTranscriber()
    report = prepare_dataset(read_source(tmp_path / "talk.wav"), tmp_path / "out", transcriber=fake)
    assert report.kept == 3 and fake.calls == 3
    utts = read_metadata(tmp_path / "out", "all")
    assert [u.id for u in utts] == ["talk_000", "talk_001", "talk_002"]
    for u in utts:
        a = load(u.path)
        assert a.sample_rate == 24000 and 1.0 <= a.duration <= 15.0 and u.text == "some words"
    train = read_metadata(tmp_path / "out", "train")
    val = read_metadata(tmp_path / "out", "val")
    assert len(train) + len(val) == 3 and len(val) == 1
    again = prepare_dataset(read_source(tmp_path / "talk.wav"), tmp_path / "out", transcriber=fake)
    assert again.skipped == 1 and again.kept == 3 and fake.calls == 3  # nothing redone


def test_filters_reject_bad_clips(tmp_path):
    sr = 16000
    clip = arctic_clip()
    t = np.arange(2 * sr) / sr
    clipped = Audio(np.clip(3 * np.sin(2 * np.pi * 220 * t), -1, 1), sr)
    noisy = Audio(clip.samples + np.random.default_rng(0).normal(0, 0.05, len(clip)), sr)
    rows = [{"id": "good", "audio": {"array": clip.samples, "sampling_rate": sr}, "text": ARCTIC_TEXT},
            {"id": "short", "audio": {"array": clip.samples[: sr // 2], "sampling_rate": sr}, "text": "a"},
            {"id": "clip", "audio": {"array": clipped.samples, "sampling_rate": sr}, "text": "b"},
            {"id": "noise", "audio": {"array": noisy.samples, "sampling_rate": sr}, "text": "c"},
            {"id": "empty", "audio": {"array": clip.samples, "sampling_rate": sr}, "text": "  "}]
    report = prepare_dataset(read_hf(rows), tmp_path / "out", transcriber=FakeTranscriber(""))
    assert report.kept == 1
    assert dict(report.rejected) == {"too_short": 1, "clipping": 1, "low_snr": 1, "empty_transcript": 1}


def test_hf_datasets_streaming_source(tmp_path):
    datasets = pytest.importorskip("datasets")
    clip = arctic_clip()

    def rows():
        for i in range(2):
            yield {"id": f"utt{i}", "audio": {"array": clip.samples, "sampling_rate": 16000},
                   "text": ARCTIC_TEXT, "speaker_id": "s1"}

    ds = datasets.IterableDataset.from_generator(rows)
    report = prepare_dataset(read_hf(ds), tmp_path / "out")
    assert report.kept == 2


def _write_corpus(root: Path, layout: str) -> Path:
    clip = arctic_clip()
    if layout == "ljspeech":
        (root / "wavs").mkdir(parents=True)
        save(clip, root / "wavs" / "LJ001-0001.wav")
        (root / "metadata.csv").write_text(f"LJ001-0001|{ARCTIC_TEXT}|{ARCTIC_TEXT}\n")
    elif layout == "vctk":
        (root / "txt" / "p225").mkdir(parents=True)
        (root / "wav48_silence_trimmed" / "p225").mkdir(parents=True)
        (root / "txt" / "p225" / "p225_001.txt").write_text(ARCTIC_TEXT)
        save(clip, root / "wav48_silence_trimmed" / "p225" / "p225_001_mic1.flac")
    else:
        d = root / "19" / "198"
        d.mkdir(parents=True)
        save(clip, d / "19_198_000000_000000.wav")
        (d / "19_198_000000_000000.normalized.txt").write_text(ARCTIC_TEXT)
    return root


@pytest.mark.parametrize("layout", ["ljspeech", "vctk", "libritts"])
def test_corpus_layouts_are_read_with_their_transcripts(tmp_path, layout):
    src = _write_corpus(tmp_path / layout, layout)
    items = list(read_source(src))
    assert len(items) == 1 and items[0].text == ARCTIC_TEXT
    assert items[0].audio().duration == pytest.approx(4.0, abs=0.1)


def test_split_recording_on_real_pauses():
    pieces = split_recording(_long_recording())
    assert len(pieces) == 3 and all(3.0 < p.duration < 4.5 for p in pieces)


@pytest.mark.slow
def test_prepare_real_clips_with_the_offline_asr(tmp_path):
    asr = pytest.importorskip("voxclone.asr")
    clips = sorted((EVAL / "vctk").rglob("*.wav"))[:3] if EVAL.is_dir() else []
    paths = [Path(__import__("pysptk").util.example_audio_file())] + clips
    report = prepare_dataset(read_source(paths[0]) if len(paths) == 1 else
                             (i for p in paths for i in read_source(p)), tmp_path / "out",
                             PrepareConfig(lang="en"), transcriber=asr.transcribe)
    utts = read_metadata(tmp_path / "out", "all")
    assert report.kept == len(paths) == len(utts)
    assert (tmp_path / "out" / "wavs").is_dir() and (tmp_path / "out" / "metadata.csv").is_file()
    assert all(u.text.strip() for u in utts)
    arctic = next(u for u in utts if "arctic" in u.id)
    assert "superlative" in arctic.text.lower()

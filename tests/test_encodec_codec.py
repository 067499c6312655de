"""EnCodec behind the Codec protocol: shapes on random weights, the Hugging Face key mapping
(parity with transformers' EnCodec on the same random weights), and a clear error without weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voxclone.audio.types import Audio
from voxclone.errors import ModelNotFound

pytest.importorskip("einops")
encodec_codec = pytest.importorskip("voxclone.codeclm.encodec_codec")
torch.set_num_threads(1)


def _speechlike(seconds: float = 1.0, sr: int = 16000) -> Audio:
    t = np.arange(int(seconds * sr)) / sr
    return Audio(0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2, sr)


def test_random_weight_round_trip_shapes():
    codec = encodec_codec.EncodecCodec.random(n_q=8)
    codes = codec.encode(_speechlike(1.0))
    assert codes.shape == (8, 75) and codes.dtype == np.int64
    assert codes.min() >= 0 and codes.max() < 1024
    assert len(codec.decode(codes)) == 75 * 320 and codec.decode(codes).sample_rate == 24000
    assert encodec_codec.EncodecCodec.random(n_q=2).encode(_speechlike(0.5)).shape[0] == 2
    with pytest.raises(Exception):
        encodec_codec.EncodecCodec.random(n_q=5)


def test_missing_weights_name_the_fetch_command(tmp_path):
    with pytest.raises(ModelNotFound, match="voxclone models fetch encodec"):
        encodec_codec.EncodecCodec.from_pretrained(tmp_path)


def test_hugging_face_weights_map_onto_the_encodec_package(tmp_path):
    transformers = pytest.importorskip("transformers")
    from safetensors.torch import save_file

    torch.manual_seed(0)
    hf = transformers.EncodecModel(transformers.EncodecConfig()).eval()
    for name, buf in hf.named_buffers():
        if name.endswith("codebook.embed"):
            buf.copy_(0.05 * torch.randn_like(buf))
    save_file({k: v.contiguous() for k, v in hf.state_dict().items()}, str(tmp_path / "model.safetensors"))
    codec = encodec_codec.EncodecCodec.from_pretrained(tmp_path, n_q=8)
    audio = _speechlike(1.0, 24000)
    ours = codec.encode(audio)
    x = torch.from_numpy(audio.samples.copy())[None, None]
    with torch.no_grad():
        theirs = hf.encode(x, bandwidth=6.0).audio_codes[0, 0].numpy()
        ref = hf.decode(torch.from_numpy(ours)[None, None], [None]).audio_values[0, 0].numpy()
    assert np.array_equal(ours, theirs)
    assert len(set(ours.ravel().tolist())) > 8  # the codes are not degenerate
    assert np.allclose(codec.decode(ours).samples, ref[: 75 * 320], atol=1e-4)

"""EnCodec 24 kHz (the ``encodec`` package) behind the ``Codec`` protocol.

Weights: ``voxclone models fetch encodec`` downloads ``facebook/encodec_24khz`` (Hugging Face
format, CC-BY-NC-4.0) into ``<models_dir>/encodec_24khz``; :func:`hf_to_encodec_keys` renames its
tensors to the ``encodec`` package's names. ``encodec`` imports torchaudio only for two helpers we
never call, and PyPI's torchaudio does not load with torch 2.13, so when torchaudio cannot be
imported a placeholder module stands in for the duration of ``import encodec`` only.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import types
from pathlib import Path

import numpy as np
import torch

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.errors import AudioError, EngineUnavailable, ModelNotFound

HF_REPO = "facebook/encodec_24khz"
BANDWIDTH_NQ = {1.5: 2, 3.0: 4, 6.0: 8, 12.0: 16, 24.0: 32}
FETCH_HINT = "run `voxclone models fetch encodec` on a connected machine"


def import_encodec():
    """The ``encodec`` module, importable without a working torchaudio."""
    try:
        import encodec  # noqa: F401

        return sys.modules["encodec"]
    except ImportError as exc:
        if "encodec" in str(exc) and "torchaudio" not in str(exc):
            raise EngineUnavailable("EnCodec needs `pip install --no-deps encodec==0.1.1 einops` "
                                    "(--no-deps keeps torchaudio out).") from exc
    except OSError:
        pass
    for name in [m for m in sys.modules if m == "torchaudio" or m.startswith("torchaudio.")
                 or m == "encodec" or m.startswith("encodec.")]:
        del sys.modules[name]
    stub = types.ModuleType("torchaudio")
    stub.transforms = types.SimpleNamespace(Resample=None)  # type: ignore[attr-defined]
    stub.save = None  # type: ignore[attr-defined]
    sys.modules["torchaudio"] = stub
    try:
        import encodec as module
    finally:
        del sys.modules["torchaudio"]
    return module


_RULES = [(r"^(encoder|decoder)\.layers\.", r"\1.model."),
          (r"\.parametrizations\.weight\.original0$", ".weight_g"),
          (r"\.parametrizations\.weight\.original1$", ".weight_v"),
          (r"^quantizer\.layers\.(\d+)\.codebook\.", r"quantizer.vq.layers.\1._codebook.")]


def hf_to_encodec_keys(state: dict[str, torch.Tensor], target_keys: set[str]) -> dict[str, torch.Tensor]:
    """Rename a Hugging Face EnCodec state dict to the ``encodec`` package's names: layers → model,
    weight-norm parametrisations → weight_g / weight_v, ``conv`` → ``conv.conv`` (or
    ``convtr.convtr`` for transposed convolutions), quantizer codebooks. Every key must land."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        new = key
        for pattern, repl in _RULES:
            new = re.sub(pattern, repl, new)
        if new.startswith(("encoder.", "decoder.")) and ".lstm." not in new:
            conv = re.sub(r"\.conv\.(weight_g|weight_v|bias|weight)$", r".conv.conv.\1", new)
            convtr = re.sub(r"\.conv\.(weight_g|weight_v|bias|weight)$", r".convtr.convtr.\1", new)
            new = conv if conv in target_keys else convtr
        if new not in target_keys:
            raise ModelNotFound(f"EnCodec weight '{key}' has no place in the model ({new}): the "
                                f"file is not {HF_REPO}; {FETCH_HINT}.")
        out[new] = value
    missing = target_keys - out.keys()
    if missing:
        raise ModelNotFound(f"EnCodec weights lack {len(missing)} tensors (e.g. {sorted(missing)[0]}); "
                            f"{FETCH_HINT}.")
    return out


class EncodecCodec:
    """EnCodec 24 kHz: 75 Hz frames, 1024 codes per level, n_q 2/4/8/16/32 (1.5-24 kbps)."""

    id = "encodec-24khz"
    sample_rate = 24000
    hop = 320
    frame_rate = 75.0
    n_codes = 1024

    def __init__(self, model: torch.nn.Module, n_q: int, weights_hash: str, weights_path: Path | None) -> None:
        if n_q not in BANDWIDTH_NQ.values():
            raise AudioError(f"EnCodec n_q must be one of {sorted(BANDWIDTH_NQ.values())}, not {n_q}.")
        self.model = model.eval()
        self.n_q = n_q
        bandwidth = {v: k for k, v in BANDWIDTH_NQ.items()}[n_q]
        self.model.set_target_bandwidth(bandwidth)
        self.weights_hash, self.weights_path = weights_hash, weights_path

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.weights_hash}:{self.n_q}".encode()).hexdigest()[:16]

    @staticmethod
    def default_dir() -> Path:
        from voxclone.config import Settings

        return Settings().models_dir / "encodec_24khz"

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, n_q: int = 8) -> "EncodecCodec":
        """Load ``model.safetensors`` (Hugging Face format) from ``path`` (default: the fetched copy)."""
        from safetensors.torch import load_file

        folder = Path(path) if path else cls.default_dir()
        file = folder / "model.safetensors" if folder.is_dir() or not folder.suffix else folder
        if not file.is_file():
            raise ModelNotFound(f"EnCodec weights not found at {file}: {FETCH_HINT}.")
        model = import_encodec().EncodecModel.encodec_model_24khz(pretrained=False)
        state = hf_to_encodec_keys(load_file(str(file)), set(model.state_dict()))
        model.load_state_dict(state)
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        return cls(model, n_q, digest, file)

    @classmethod
    def random(cls, n_q: int = 8, seed: int = 0) -> "EncodecCodec":
        """Random weights (tests: shapes and plumbing only; its codes mean nothing)."""
        torch.manual_seed(seed)
        model = import_encodec().EncodecModel.encodec_model_24khz(pretrained=False)
        for name, buf in model.named_buffers():
            if name.endswith("_codebook.embed"):
                buf.copy_(torch.randn_like(buf))  # kmeans_init leaves zeros: every code would be 0
        return cls(model, n_q, f"random-{seed}", None)

    @torch.no_grad()
    def encode(self, audio: Audio) -> np.ndarray:
        """Tokens int64 [n_q, ceil(samples / 320)] at 24 kHz."""
        a = resample(audio, self.sample_rate)
        if len(a) < self.hop:
            raise AudioError("Audio is too short to encode (under one EnCodec frame).")
        frames = self.model.encode(torch.from_numpy(a.samples.copy())[None, None])
        return frames[0][0][0].numpy().astype(np.int64)

    @torch.no_grad()
    def decode(self, codes: np.ndarray) -> Audio:
        """Audio of codes [n_q' <= n_q, frames]: frames × 320 samples."""
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[0] > self.n_q or codes.min() < 0 or codes.max() >= self.n_codes:
            raise AudioError(f"EnCodec codes must be [n_q <= {self.n_q}, frames] in [0, 1024).")
        y = self.model.decode([(torch.from_numpy(codes.astype(np.int64))[None], None)])
        return Audio(y[0, 0, : codes.shape[1] * self.hop].numpy(), self.sample_rate)

    def save(self, folder: Path) -> None:
        """``codec.json`` naming the weights file and hash (the weights are not copied)."""
        if self.weights_path is None:
            raise ModelNotFound("A random-weight EnCodec cannot be saved; load real weights first.")
        meta = {"id": self.id, "version": 1, "n_q": self.n_q, "weights": str(self.weights_path),
                "weights_hash": self.weights_hash, "content_hash": self.content_hash}
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "codec.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: Path) -> "EncodecCodec":
        meta = json.loads((Path(folder) / "codec.json").read_text())
        codec = cls.from_pretrained(meta["weights"], meta["n_q"])
        if codec.weights_hash != meta["weights_hash"]:
            raise ModelNotFound(f"{meta['weights']} changed since training: {FETCH_HINT}.")
        return codec


def fetch_encodec(revision: str = "main") -> Path:
    """Download EnCodec 24 kHz weights (Hugging Face format) into the models folder."""
    from voxclone.hub import download_files

    dest = EncodecCodec.default_dir()
    download_files(HF_REPO, {"config.json": dest / "config.json",
                             "model.safetensors": dest / "model.safetensors"}, revision)
    return dest

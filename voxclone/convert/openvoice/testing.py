"""Random-weight converters in the official checkpoint layout, for tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import torch

from voxclone.convert.openvoice.checkpoint import save_model
from voxclone.convert.openvoice.config import OpenVoiceConfig
from voxclone.convert.openvoice.layers import WeightNorm
from voxclone.convert.openvoice.model import SynthesizerTrn


def random_model(config: OpenVoiceConfig = OpenVoiceConfig(), seed: int = 0) -> SynthesizerTrn:
    """A randomly initialised converter; every weight-norm gain differs from ‖v‖ so that a
    loader mixing up ``weight_g`` and ``weight_v`` would show."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = SynthesizerTrn(config)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, WeightNorm):
                module.weight_g.mul_(0.5 + torch.rand(module.weight_g.shape, generator=gen))
        for name, p in model.named_parameters():
            if name.endswith("bias") or name.startswith("ref_enc.layernorm"):
                p.add_(0.05 * torch.randn(p.shape, generator=gen))
    return model.eval()


def write_random_checkpoint(model_dir: Path, config: OpenVoiceConfig = OpenVoiceConfig(),
                            seed: int = 0) -> Path:
    """Save :func:`random_model` as ``model_dir``/config.json + checkpoint.pth."""
    return save_model(random_model(config, seed), Path(model_dir))

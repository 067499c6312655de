"""Perth-Net (Resemble AI's implicit neural watermarker), inference only, without torchaudio.

The network marks and reads a normalised log-magnitude STFT (32 kHz, n_fft 2048, hop 320,
Hann window): the encoder adds a residual to the lowest ``subband`` bins (up to 2 kHz), the
decoder reads one confidence in [0, 1] per input. Parameter names are the checkpoint's own
(``encoder.layers.N.conv``, ``decoder.{slow,normal,fast}_layers.N.conv``, the STFT windows and
the time-stretch phase advance under ``ap``), so the bundled checkpoint of the MIT-licensed
``resemble-perth`` package loads strictly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from voxclone.errors import ModelCorrupt, ModelNotFound

CHECKPOINT = "perth_net/pretrained/implicit/perth_net_250000.pth.tar"
"""The implicit model's checkpoint inside the installed ``perth`` package."""


@dataclass(frozen=True)
class PerthConfig:
    """The model's hyper-parameters (``hparams.yaml`` beside the checkpoint).

    sample_rate: Hz the network works at; n_fft, hop_size, window_size: STFT in samples;
    stft_magnitude_min: floor of the magnitude before the log; max_wmark_freq: top of the
    marked band in Hz; hidden_size: channels of the convolution stacks.
    """

    sample_rate: int = 32000
    n_fft: int = 2048
    hop_size: int = 320
    window_size: int = 2048
    stft_magnitude_min: float = 1e-9
    max_wmark_freq: float = 2000.0
    hidden_size: int = 256
    window_fn: str = "hann"

    @property
    def subband(self) -> int:
        """Number of STFT bins the mark lives in (128 for the defaults)."""
        nfreq = self.n_fft // 2 + 1
        return int(round(nfreq * self.max_wmark_freq / (self.sample_rate / 2)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PerthConfig":
        """Build from ``hparams.yaml`` values, ignoring training-only keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class Conv(nn.Module):
    """Conv1d ('same' padding) + optional LeakyReLU(0.01); (B, C_in, T) → (B, C_out, T)."""

    def __init__(self, i: int, o: int, k: int, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv1d(i, o, k, padding=(k - 1) // 2)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return F.leaky_relu(x, 0.01) if self.act else x


def conv_stack(c_in: int, hidden: int, c_out: int) -> nn.Sequential:
    """1x1 in, five k=7 hidden layers, 1x1 out (no activation at the end)."""
    return nn.Sequential(Conv(c_in, hidden, 1), *[Conv(hidden, hidden, 7) for _ in range(5)],
                         Conv(hidden, c_out, 1, act=False))


def magmask(magspec: torch.Tensor, p: float = 0.05) -> torch.Tensor:
    """Frames loud enough to carry the mark: (B, F, T) → (B, T) of 0/1."""
    s = magspec.sum(dim=1)
    return (s > s.max(dim=1).values[:, None] * p).float()


class Encoder(nn.Module):
    """Adds the mark to a normalised magnitude: (B, F, T) → (B, F, T)."""

    def __init__(self, hidden: int, subband: int) -> None:
        super().__init__()
        self.subband = subband
        self.layers = conv_stack(subband, hidden, subband)

    def forward(self, magspec: torch.Tensor) -> torch.Tensor:
        mask = magmask(magspec)[:, None]
        res = self.layers(magspec[:, :self.subband]) * mask
        return torch.cat([magspec[:, :self.subband] + res, magspec[:, self.subband:]], dim=1)


def branch_sizes(frames: int) -> tuple[int, int, int]:
    """Frame counts of the decoder's slow (x1.25), normal and fast (x0.75) branches."""
    return int(frames * 1.25), frames, int(frames * 0.75)


def combine_branches(outs: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
    """Attention-weighted mean of the branches' masked means.

    outs: three (B, 2, T_i) (channel 0 attention, 1 mark); mask: (B, 1, T) → (B,) confidence.
    """
    attn, marks = [], []
    for out in outs:
        m = F.interpolate(mask, size=out.size(2), mode="nearest")
        mean = (out * m).sum(dim=2) / m.sum(dim=2)  # (B, 2)
        attn.append(mean[:, :1])
        marks.append(mean[:, 1:])
    weights = torch.softmax(torch.cat(attn, dim=1), dim=1)
    return (torch.cat(marks, dim=1) * weights).sum(dim=1)


class Decoder(nn.Module):
    """Reads the mark at three time scales: (B, F, T) → (B,) confidence (unclipped)."""

    def __init__(self, hidden: int, subband: int) -> None:
        super().__init__()
        self.subband = subband
        self.slow_layers = conv_stack(subband, hidden, 2)
        self.normal_layers = conv_stack(subband, hidden, 2)
        self.fast_layers = conv_stack(subband, hidden, 2)

    def forward(self, magspec: torch.Tensor) -> torch.Tensor:
        mask = magmask(magspec)[:, None]
        sub = magspec[:, :self.subband]
        slow, _, fast = branch_sizes(sub.size(2))
        outs = [self.slow_layers(stretch(sub, slow)), self.normal_layers(sub),
                self.fast_layers(stretch(sub, fast))]
        return combine_branches(outs, mask)


def stretch(x: torch.Tensor, size: int) -> torch.Tensor:
    """Linear interpolation along time (align_corners) to ``size`` frames."""
    return F.interpolate(x, size=size, mode="linear", align_corners=True)


class _Windowed(nn.Module):
    """Holds an STFT window under the checkpoint's name (``window``)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(size))


class _Stretch(nn.Module):
    """Holds the phase-vocoder buffer the checkpoint carries (unused at inference)."""

    def __init__(self, n_freq: int, hop: int) -> None:
        super().__init__()
        self.register_buffer("phase_advance", torch.linspace(0, math.pi * hop, n_freq)[..., None])


class AudioProcessor(nn.Module):
    """Signal ↔ (normalised log-magnitude, phase), with torch.stft/istft (center, reflect)."""

    HEADROOM_DB = 15.0

    def __init__(self, hp: PerthConfig) -> None:
        super().__init__()
        self.hp = hp
        self.spectrogram = _Windowed(hp.window_size)
        self.inv_spectrogram = _Windowed(hp.window_size)
        self.stretch = _Stretch(hp.n_fft // 2 + 1, hp.hop_size)

    @property
    def _min_db(self) -> float:
        return 20.0 * math.log10(self.hp.stft_magnitude_min)

    def signal_to_magphase(self, signal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N,) samples → magnitude (F, T) normalised to ~[0, 1], phase (F, T) in radians."""
        spec = torch.stft(signal.float(), self.hp.n_fft, self.hp.hop_size, self.hp.window_size,
                          self.spectrogram.window, center=True, pad_mode="reflect",
                          normalized=False, onesided=True, return_complex=True)
        mag_db = 20.0 * torch.log10(spec.abs().clamp(min=self.hp.stft_magnitude_min))
        return (mag_db - self._min_db) / (-self._min_db + self.HEADROOM_DB), torch.angle(spec)

    def magphase_to_signal(self, mag: torch.Tensor, phase: torch.Tensor,
                           length: int | None = None) -> torch.Tensor:
        """Inverse of :meth:`signal_to_magphase`: (F, T) pair → (N,) samples."""
        mag_db = mag * (-self._min_db + self.HEADROOM_DB) + self._min_db
        spec = 10.0 ** (mag_db / 20).clamp(max=10) * torch.exp(1j * phase)
        return torch.istft(spec, self.hp.n_fft, self.hp.hop_size, self.hp.window_size,
                           self.inv_spectrogram.window, center=True, normalized=False,
                           onesided=True, length=length)


class PerthNet(nn.Module):
    """Encoder + decoder + STFT, as in the checkpoint."""

    def __init__(self, hp: PerthConfig = PerthConfig()) -> None:
        super().__init__()
        self.hp = hp
        self.encoder = Encoder(hp.hidden_size, hp.subband)
        self.decoder = Decoder(hp.hidden_size, hp.subband)
        self.ap = AudioProcessor(hp)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None) -> "PerthNet":
        """Load a checkpoint strictly (``weights_only``); default: the one ``resemble-perth``
        installs. Its ``hparams.yaml`` beside it gives the config."""
        path = Path(path) if path is not None else bundled_checkpoint()
        if not path.is_file():
            raise ModelNotFound(f"Perth-Net checkpoint not found: {path}. Install it with "
                                "`pip install resemble-perth`.")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)["model"]
            model = cls(read_hparams(path))
            model.load_state_dict(state, strict=True)
        except Exception as exc:
            raise ModelCorrupt(f"Cannot load the Perth-Net checkpoint {path} ({exc}). Reinstall "
                               "it: `pip install --force-reinstall resemble-perth`.") from exc
        return model.eval()


def bundled_checkpoint() -> Path:
    """Path of the implicit checkpoint inside the installed ``perth`` package (not imported:
    the package itself needs torchaudio)."""
    import importlib.util

    spec = importlib.util.find_spec("perth")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound("The watermark model comes with the `resemble-perth` package: "
                            "`pip install resemble-perth` (or pass --no-watermark).")
    return Path(list(spec.submodule_search_locations)[0]) / CHECKPOINT


def read_hparams(checkpoint: Path) -> PerthConfig:
    """The config in ``hparams.yaml`` beside ``checkpoint`` (defaults when there is none)."""
    path = Path(checkpoint).parent / "hparams.yaml"
    if not path.is_file():
        return PerthConfig()
    import yaml

    return PerthConfig.from_dict(yaml.safe_load(path.read_text()) or {})

"""Soprano configs: the decoder's shape, the ISTFT post-process, and per-call generation settings.

The LM's config is the hub folder's ``config.json`` (a stock ``transformers`` Qwen3 config).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from voxclone.errors import InvalidSetting

SAMPLE_RATE = 32000
TOKEN_SIZE = 2048  # audio samples per LM token (4 STFT frames of hop 512)
RECEPTIVE_FIELD = 4  # tokens of look-around the official streaming keeps
MAX_NEW_TOKENS = 512
TEXT_ID, START_ID, STOP_ID = 1, 2, 3


@dataclass(frozen=True)
class DecoderConfig:
    """Shape of the Vocos-style decoder (hidden states → complex STFT).

    input_channels: LM hidden size (512). dim: backbone width (768 for Soprano-1.1-80M, 512 for
    Soprano-80M). num_layers: ConvNeXt blocks (8). embed_kernel: kernel of ``decoder.embed``
    (1 for 1.1, 3 for 80M). dw_kernel: depthwise kernel of each block (3). upscale: STFT frames
    per token (4). n_fft / hop_length: of the ISTFT (2048 / 512).
    """

    input_channels: int = 512
    dim: int = 768
    num_layers: int = 8
    embed_kernel: int = 1
    dw_kernel: int = 3
    upscale: int = 4
    n_fft: int = 2048
    hop_length: int = 512

    @property
    def intermediate_dim(self) -> int:
        """Width of each block's pointwise MLP (3·dim)."""
        return 3 * self.dim

    @property
    def variant(self) -> str:
        """"soprano-1.1-80m" or "soprano-80m" (the two official decoders), else "custom"."""
        if (self.input_channels, self.num_layers) == (512, 8):
            if (self.dim, self.embed_kernel) == (768, 1):
                return "soprano-1.1-80m"
            if (self.dim, self.embed_kernel) == (512, 3):
                return "soprano-80m"
        return "custom"

    def to_dict(self) -> dict[str, Any]:
        """Plain fields."""
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> "DecoderConfig":
        """Inverse of :meth:`to_dict` (unknown keys refused)."""
        return DecoderConfig(**data)


@dataclass(frozen=True)
class ISTFTConfig:
    """The CPU ISTFT after the decoder graph (``torch.istft`` with ``center=True``).

    The DC and Nyquist bins are zeroed first (the official ISTFT does so in place).
    """

    n_fft: int = 2048
    hop_length: int = 512
    win_length: int = 2048
    window: str = "hann"  # periodic
    center: bool = True
    normalized: bool = False
    onesided: bool = True
    zero_dc_nyquist: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain fields (saved beside the decoder graph)."""
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> "ISTFTConfig":
        """Inverse of :meth:`to_dict`."""
        return ISTFTConfig(**data)


@dataclass(frozen=True)
class GenerationConfig:
    """Per-call sampling settings, as the official ``SopranoTTS.infer`` takes them.

    temperature: 0 means (near-)greedy; the official code floors it to 0.001.
    top_p: nucleus mass kept (0 < top_p <= 1). top_k: tokens kept before top-p (transformers'
    default 50 in the official non-streaming path; 0 = off). repetition_penalty: over every id
    seen, prompt included (>= 1). max_new_tokens: cap per sentence (512). seed: for the sampler.
    """

    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 50
    repetition_penalty: float = 1.2
    max_new_tokens: int = MAX_NEW_TOKENS
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise InvalidSetting(f"temperature={self.temperature}: use 0 or more.")
        if not 0 < self.top_p <= 1:
            raise InvalidSetting(f"top_p={self.top_p}: use a value in (0, 1].")
        if self.top_k < 0:
            raise InvalidSetting(f"top_k={self.top_k}: use 0 (off) or more.")
        if self.repetition_penalty <= 0:
            raise InvalidSetting(f"repetition_penalty={self.repetition_penalty}: use > 0 (1 = off).")
        if not 1 <= self.max_new_tokens <= 4096:
            raise InvalidSetting(f"max_new_tokens={self.max_new_tokens}: use 1..4096.")

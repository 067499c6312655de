"""Configuration of the OpenVoice V2 tone-colour converter (the ``converter/config.json`` format)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from voxclone.errors import ModelCorrupt


@dataclass(frozen=True)
class DataConfig:
    """Audio front end: ``sampling_rate`` Hz; STFT ``filter_length`` (n_fft), ``hop_length`` and
    ``win_length`` in samples; ``n_speakers`` must be 0 (a converter, not a multi-speaker TTS)."""

    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_speakers: int = 0


@dataclass(frozen=True)
class ModelConfig:
    """Network sizes of ``SynthesizerTrn`` (defaults: the released V2 converter).

    inter_channels: latent channels (z); hidden_channels: width of the WaveNet stacks;
    gin_channels: tone-colour size; resblock*/upsample*: HiFi-GAN decoder; posterior_layers,
    flow_layers, n_flows: depth of the posterior WaveNet, of each coupling WaveNet, coupling count;
    ref_enc_filters: channels of the reference encoder's 2-D convolutions; zero_g: condition the
    posterior encoder and decoder on a zero tone colour (V2). Keys of config.json that only feed
    the text encoder (filter_channels, n_heads, n_layers, kernel_size, p_dropout) are kept as read.
    """

    inter_channels: int = 192
    hidden_channels: int = 192
    filter_channels: int = 768
    n_heads: int = 2
    n_layers: int = 6
    kernel_size: int = 3
    p_dropout: float = 0.1
    resblock: str = "1"
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    gin_channels: int = 256
    zero_g: bool = True
    posterior_layers: int = 16
    flow_layers: int = 4
    n_flows: int = 4
    ref_enc_filters: tuple[int, ...] = (32, 32, 64, 64, 128, 128)


STRUCTURAL_KEYS = ("posterior_layers", "flow_layers", "n_flows", "ref_enc_filters")


@dataclass(frozen=True)
class OpenVoiceConfig:
    """``config.json`` of a converter checkpoint: ``data`` and ``model`` sections and ``version``."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    version: str = "v2"

    def __post_init__(self) -> None:
        if self.model.resblock != "1":
            raise ModelCorrupt(f"Unsupported decoder resblock type {self.model.resblock!r}: "
                               "the OpenVoice converter uses '1'.")
        if self.data.n_speakers != 0:
            raise ModelCorrupt("config.json describes a multi-speaker TTS (n_speakers > 0), "
                               "not the tone-colour converter.")

    @property
    def spec_channels(self) -> int:
        """Frequency bins of the linear spectrogram (n_fft // 2 + 1)."""
        return self.data.filter_length // 2 + 1

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "OpenVoiceConfig":
        """Parse a config.json dict; unknown keys (training settings, ...) are ignored."""
        try:
            data = _pick(DataConfig, raw.get("data", {}))
            model = _pick(ModelConfig, raw.get("model", {}))
        except (TypeError, ValueError) as exc:
            raise ModelCorrupt(f"config.json is not an OpenVoice converter config: {exc}.") from exc
        return cls(data, model, str(raw.get("_version_", "v1")))

    def to_dict(self) -> dict[str, Any]:
        """The config.json layout (``_version_``, ``data``, ``model``); the structural keys the
        official file lacks are written only where they differ from the released converter."""
        model = asdict(self.model)
        for key in STRUCTURAL_KEYS:
            if model[key] == getattr(ModelConfig, key):
                del model[key]
        return {"_version_": self.version, "data": asdict(self.data), "model": _lists(model)}


def _pick(kind: type, raw: dict[str, Any]) -> Any:
    names = {f.name: f for f in fields(kind)}
    values = {}
    for key, value in raw.items():
        if key in names:
            values[key] = _tuples(value) if isinstance(value, list) else value
    return kind(**values)


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def _tuples(value: list[Any]) -> tuple[Any, ...]:
    return tuple(_tuples(v) if isinstance(v, list) else v for v in value)


def tiny_config() -> OpenVoiceConfig:
    """A small converter of the same structure, for fast tests."""
    model = ModelConfig(inter_channels=16, hidden_channels=16, resblock_kernel_sizes=(3, 5),
                        resblock_dilation_sizes=((1, 3), (1, 3)), upsample_rates=(8, 8, 4),
                        upsample_initial_channel=32, upsample_kernel_sizes=(16, 16, 8),
                        gin_channels=16, posterior_layers=3, flow_layers=2, n_flows=2,
                        ref_enc_filters=(4, 4, 8, 8, 8, 8))
    return OpenVoiceConfig(DataConfig(), model)

"""Model configurations of the AR and NAR transformers, with the named size presets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from voxclone.config import DictConfig


@dataclass(frozen=True)
class ARConfig(DictConfig):
    """Decoder-only AR over [text ; codebook 0] with an EOS code.

    n_text: text vocabulary (ids from TextTokenizer); n_codes: codes per codec level (EOS = n_codes,
    BOS = n_codes + 1 in the audio embedding); d_model / n_heads / n_layers / ffn_mult: transformer
    sizes; dropout: in attention and FFN; length_buckets: log-length buckets of the length prompt
    (0 disables it); duration_predictor: an MLP on the text states predicting log frames.
    """

    n_text: int = 256
    n_codes: int = 1024
    d_model: int = 512
    n_heads: int = 8
    n_layers: int = 12
    ffn_mult: int = 4
    dropout: float = 0.1
    length_buckets: int = 32
    duration_predictor: bool = True



@dataclass(frozen=True)
class NARConfig(DictConfig):
    """Bidirectional NAR over [text ; prompt ; codebooks < k] predicting codebook k (1..n_q-1);
    the level enters every layer norm (adaptive layer norm) and picks its output head."""

    n_text: int = 256
    n_codes: int = 1024
    n_q: int = 8
    d_model: int = 384
    n_heads: int = 6
    n_layers: int = 12
    ffn_mult: int = 4
    dropout: float = 0.1



# d 512 / 8 heads / 12 layers is the AR of the spec (≈ 41M with a 1024-code vocabulary);
# the NAR "base" is ≈ 30M; "small" trains on a CPU in minutes; "tiny" is for tests.
_PRESETS: dict[str, tuple[dict[str, int], dict[str, int]]] = {
    "base": (dict(d_model=512, n_heads=8, n_layers=12), dict(d_model=384, n_heads=8, n_layers=12)),
    "small": (dict(d_model=256, n_heads=4, n_layers=6), dict(d_model=256, n_heads=4, n_layers=6)),
    "tiny": (dict(d_model=64, n_heads=2, n_layers=2), dict(d_model=64, n_heads=2, n_layers=2)),
}


def model_preset(name: str, n_text: int, n_codes: int, n_q: int,
                 dropout: float | None = None) -> tuple[ARConfig, NARConfig]:
    """The AR and NAR configs of preset ``name`` (base, small, tiny) for a vocabulary."""
    if name not in _PRESETS:
        from voxclone.errors import InvalidSetting

        raise InvalidSetting(f"Unknown model size '{name}': use {', '.join(_PRESETS)}.")
    ar_kw, nar_kw = _PRESETS[name]
    ar = ARConfig(n_text=n_text, n_codes=n_codes, **ar_kw)
    nar = NARConfig(n_text=n_text, n_codes=n_codes, n_q=n_q, **nar_kw)
    if dropout is not None:
        ar, nar = replace(ar, dropout=dropout), replace(nar, dropout=dropout)
    return ar, nar

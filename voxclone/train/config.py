"""Training configuration: OmegaConf structured configs from dataclasses.

A run's config is ``TrainConfig()`` defaults, merged with an optional ``base:`` file named by the
experiment file, the experiment file, then ``key=value`` overrides. The resolved YAML is saved in
every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from voxclone.errors import InvalidSetting

LENGTH_MODES = ("stop_token", "duration_predictor", "length_prompt")


@dataclass
class DataConfig:
    """train / val: LJSpeech-format folders (wavs/ + metadata.csv) or metadata files; a folder's
    ``metadata_train.csv`` / ``metadata_val.csv`` (written by ``voxclone dataset prepare``) are used
    when present. text: ``char`` or ``phoneme`` (espeak-ng); lang: espeak-ng language;
    batch_frames: codec frames per batch (bucketing); max_batch: items per batch at most;
    min_seconds / max_seconds: utterances outside are left out."""

    train: str = ""
    val: str = ""
    text: str = "char"
    lang: str = "en"
    batch_frames: int = 3000
    max_batch: int = 16
    min_seconds: float = 0.5
    max_seconds: float = 15.0


@dataclass
class CodecConfig:
    """name: ``world-rvq`` (embedded, fitted on the training audio) or ``encodec-24khz``
    (``voxclone models fetch encodec``); n_q / n_codes: levels and codes per level (EnCodec: 8 ×
    1024 at 6 kbps); f0_method: WORLD-RVQ pitch (harvest or dio); fit_seconds: audio used to fit the
    codebooks; path: an existing codec folder to reuse instead of fitting."""

    name: str = "world-rvq"
    n_q: int = 8
    n_codes: int = 1024
    f0_method: str = "harvest"
    fit_seconds: float = 600.0
    path: str = ""


@dataclass
class ModelConfig:
    """size: base (AR d 512 / 8 heads / 12 layers, NAR ≈ 30M), small, tiny; dropout;
    length_control: stop_token, duration_predictor or length_prompt; duration_weight: weight of
    the duration predictor's loss (on log frames)."""

    size: str = "small"
    dropout: float = 0.1
    length_control: str = "stop_token"
    duration_weight: float = 0.1


@dataclass
class OptimConfig:
    """AdamW lr / betas / weight_decay; warmup_steps then ``decay`` (cosine, linear, none) down to
    lr × min_lr_ratio at max_steps; grad_clip: max global grad norm (0 off); grad_accum:
    micro-batches per step; amp: auto (bf16 on CUDA/fp16 without bf16, off on CPU/MPS), off, bf16."""

    lr: float = 3e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.98])
    weight_decay: float = 0.01
    warmup_steps: int = 200
    decay: str = "cosine"
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    grad_accum: int = 1
    amp: str = "auto"


@dataclass
class ScheduledSamplingConfig:
    """Teacher-forcing probability falls linearly from ``start`` to ``end`` between start_step and
    end_step (0: max_steps); below 1 the AR input codes are replaced by the model's own samples
    with probability 1 - p."""

    start: float = 1.0
    end: float = 1.0
    start_step: int = 0
    end_step: int = 0


@dataclass
class NARTrainConfig:
    """prompt_min / prompt_max: share of an utterance given as the acoustic prompt (a prefix, all
    levels known), at most prompt_max_frames; corruption: share of the lower-level input codes
    replaced by random codes (exposure bias)."""

    prompt_min: float = 0.25
    prompt_max: float = 0.5
    prompt_max_frames: int = 225
    corruption: float = 0.0


@dataclass
class MonitorConfig:
    """log_every: steps per JSONL line; val_every: steps per validation (loss, accuracy, attention
    entropy, predicted-code use); grad_norm_every: steps per per-module grad-norm record;
    sample_every: steps per synthesised sample (0 off); max_nonfinite: skipped non-finite steps
    before the run aborts; spike_z: loss z-score (vs an EMA) that raises a spike alarm."""

    log_every: int = 10
    val_every: int = 200
    grad_norm_every: int = 50
    sample_every: int = 0
    max_nonfinite: int = 10
    spike_z: float = 6.0


@dataclass
class TrainConfig:
    """out: run folder (checkpoints/, log.jsonl, curves.png, samples/); max_steps; save_every:
    steps per checkpoint; keep: checkpoints kept; seed; device: auto, cpu, cuda, mps;
    threads: torch intra-op threads (1 is fastest on a busy 2-core machine)."""

    out: str = "runs/codec-lm"
    max_steps: int = 2000
    save_every: int = 200
    keep: int = 3
    seed: int = 0
    device: str = "auto"
    threads: int = 1
    data: DataConfig = field(default_factory=DataConfig)
    codec: CodecConfig = field(default_factory=CodecConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    scheduled_sampling: ScheduledSamplingConfig = field(default_factory=ScheduledSamplingConfig)
    nar: NARTrainConfig = field(default_factory=NARTrainConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Defaults ← ``base:`` file ← ``path`` ← ``overrides`` (``a.b=value``), validated."""
    try:
        merged = OmegaConf.structured(TrainConfig)
        if path is not None:
            merged = OmegaConf.merge(merged, *_file_chain(Path(path)))
        merged = OmegaConf.merge(merged, OmegaConf.from_dotlist(list(overrides or [])))
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise InvalidSetting(f"Bad training config: {exc}".split("\n")[0]) from exc
    validate(cfg)  # type: ignore[arg-type]
    return cfg  # type: ignore[return-value]


def _file_chain(path: Path, depth: int = 0):
    if not path.is_file():
        raise InvalidSetting(f"Config file not found: {path}.")
    if depth > 4:
        raise InvalidSetting(f"{path}: 'base:' includes nest too deep.")
    node = OmegaConf.load(path)
    base = node.pop("base", None)
    chain = _file_chain((path.parent / str(base)).resolve(), depth + 1) if base else []
    return [*chain, node]


def to_yaml(cfg: TrainConfig) -> str:
    """The resolved config as YAML."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def validate(cfg: TrainConfig) -> None:
    """Raise InvalidSetting for values no run could use."""
    checks = [
        (cfg.model.length_control in LENGTH_MODES,
         f"model.length_control must be one of {', '.join(LENGTH_MODES)}"),
        (cfg.model.size in ("base", "small", "tiny"), "model.size must be base, small or tiny"),
        (cfg.data.text in ("char", "phoneme"), "data.text must be char or phoneme"),
        (cfg.codec.name in ("world-rvq", "encodec-24khz"), "codec.name must be world-rvq or encodec-24khz"),
        (cfg.device in ("auto", "cpu", "cuda", "mps"), "device must be auto, cpu, cuda or mps"),
        (cfg.optim.amp in ("auto", "off", "bf16"), "optim.amp must be auto, off or bf16"),
        (cfg.optim.decay in ("cosine", "linear", "none"), "optim.decay must be cosine, linear or none"),
        (cfg.max_steps >= 1 and cfg.optim.grad_accum >= 1, "max_steps and optim.grad_accum must be >= 1"),
        (cfg.codec.n_q >= 2, "codec.n_q must be >= 2 (the AR takes level 0, the NAR the rest)"),
        (0.0 <= cfg.scheduled_sampling.end <= 1.0 and 0.0 <= cfg.scheduled_sampling.start <= 1.0,
         "scheduled_sampling.start/end must lie in 0..1"),
        (0.0 <= cfg.nar.prompt_min <= cfg.nar.prompt_max < 1.0, "need 0 <= nar.prompt_min <= nar.prompt_max < 1"),
        (0.0 <= cfg.nar.corruption < 1.0, "nar.corruption must lie in 0..1"),
    ]
    for ok, message in checks:
        if not ok:
            raise InvalidSetting(f"Bad training config: {message}.")

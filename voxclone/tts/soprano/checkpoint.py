"""Strict loading of the official Soprano hub folder.

``model.safetensors`` + ``config.json`` (the Qwen3 LM, bf16 on the hub, upcast to float32),
``tokenizer.json`` and ``decoder.pth`` (a state dict, read with ``weights_only=True``). The decoder
variant (Soprano-1.1-80M: dim 768, embed kernel 1; Soprano-80M: dim 512, kernel 3) is read from
the weights' shapes. A missing, extra or misshapen tensor is refused with ModelCorrupt.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

import torch

from voxclone.errors import EngineUnavailable, ModelCorrupt, ModelNotFound
from voxclone.tts.soprano.config import DecoderConfig
from voxclone.tts.soprano.decoder import SopranoDecoder

REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "decoder.pth")
FETCH_HINT = "`voxclone models fetch soprano` (Soprano-1.1-80M) or `voxclone models fetch soprano-80m`"


def check_folder(model_dir: Path) -> Path:
    """``model_dir`` if it holds every official file, else ModelNotFound naming the fetch command."""
    model_dir = Path(model_dir)
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if missing:
        raise ModelNotFound(f"Soprano files missing in {model_dir}: {', '.join(missing)}. "
                            f"Fetch them with {FETCH_HINT}.")
    return model_dir


def check_state_dict(expected: Mapping[str, torch.Tensor], found: Mapping[str, torch.Tensor],
                     what: str) -> None:
    """ModelCorrupt unless ``found`` has exactly ``expected``'s keys and shapes."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    shapes = [f"{k} {tuple(found[k].shape)} (expected {tuple(expected[k].shape)})"
              for k in sorted(set(expected) & set(found)) if found[k].shape != expected[k].shape]
    if missing or extra or shapes:
        parts = [f"missing {', '.join(missing[:8])}" if missing else "",
                 f"unexpected {', '.join(extra[:8])}" if extra else "",
                 f"wrong shape {', '.join(shapes[:4])}" if shapes else ""]
        raise ModelCorrupt(f"{what} does not match the Soprano layout: "
                           f"{'; '.join(p for p in parts if p)}. Fetch it again with {FETCH_HINT}.")


def decoder_config_from(state: Mapping[str, torch.Tensor]) -> DecoderConfig:
    """The decoder's shape read from its weights (``decoder.embed.weight`` is (D, C_in, k))."""
    if "decoder.embed.weight" not in state or "head.out.weight" not in state:
        raise ModelCorrupt(f"decoder.pth lacks decoder.embed.weight or head.out.weight: not a "
                           f"Soprano decoder. Fetch it again with {FETCH_HINT}.")
    dim, channels, kernel = state["decoder.embed.weight"].shape
    blocks = {int(m[1]) for k in state if (m := re.match(r"decoder\.convnext\.(\d+)\.", k))}
    dw = state.get("decoder.convnext.0.dwconv.weight")
    n_fft = state["head.out.weight"].shape[0] - 2
    return DecoderConfig(input_channels=channels, dim=dim, num_layers=max(blocks, default=-1) + 1,
                         embed_kernel=kernel, dw_kernel=dw.shape[-1] if dw is not None else 3,
                         n_fft=n_fft, hop_length=n_fft // 4)


def load_decoder(path: Path) -> SopranoDecoder:
    """Strictly load ``decoder.pth`` into a SopranoDecoder of the variant its weights describe."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ModelCorrupt(f"{path} is not a state dict. Fetch it again with {FETCH_HINT}.")
    decoder = SopranoDecoder(decoder_config_from(state))
    check_state_dict(decoder.state_dict(), state, str(path))
    decoder.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return decoder.eval()


def lm_config(path: Path) -> Any:
    """The Qwen3 config of ``config.json``; ``rope_theta`` read at top level (transformers 4.x
    files) or under ``rope_parameters`` (5.x files)."""
    try:
        from transformers import Qwen3Config
    except ImportError as exc:
        raise EngineUnavailable("Soprano needs transformers: `pip install 'voxclone[soprano]'`.") from exc
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    theta = data.get("rope_theta") or (data.get("rope_parameters") or {}).get("rope_theta")
    cfg = Qwen3Config.from_dict(data)
    if theta is not None:
        if isinstance(getattr(cfg, "rope_parameters", None), dict):
            cfg.rope_parameters["rope_theta"] = float(theta)
        else:
            cfg.rope_theta = float(theta)
    return cfg


def load_lm(model_dir: Path) -> Any:
    """Strictly load the LM (``Qwen3ForCausalLM``, float32, eval mode) from the hub folder."""
    from safetensors.torch import load_file
    from transformers import Qwen3ForCausalLM

    cfg = lm_config(model_dir / "config.json")
    lm = Qwen3ForCausalLM(cfg).float()
    state = load_file(str(model_dir / "model.safetensors"), device="cpu")
    expected = dict(lm.state_dict())
    if cfg.tie_word_embeddings and "lm_head.weight" not in state:
        expected.pop("lm_head.weight", None)
    check_state_dict(expected, state, str(model_dir / "model.safetensors"))
    lm.load_state_dict({k: v.float() for k, v in state.items()}, strict=not cfg.tie_word_embeddings)
    if cfg.tie_word_embeddings:
        lm.tie_weights()
    return lm.eval()


def load_tokenizer(path: Path) -> Any:
    """The ``tokenizers`` tokenizer of ``tokenizer.json``."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))

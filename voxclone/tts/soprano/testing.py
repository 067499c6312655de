"""Random-weight Soprano folders in the official hub layout, for tests and benchmarks.

``make_model_dir(path, size="tiny" | "tiny512" | "full", variant="1.1" | "80m")`` writes ``config.json`` +
``model.safetensors`` (a transformers Qwen3ForCausalLM), ``tokenizer.json`` +
``tokenizer_config.json`` (ids as the real tokenizer's: [UNK] 0, [TEXT] 1, [START] 2, [STOP] 3,
audio tokens [0]..[7999] = 4..8003, text characters from 8004) and ``decoder.pth``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from voxclone.tts.soprano.config import DecoderConfig
from voxclone.tts.soprano.decoder import SopranoDecoder

SPECIALS = ["[UNK]", "[TEXT]", "[START]", "[STOP]"]
TEXT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789 !$%&'*,-.?"
FULL_LM = dict(hidden_size=512, intermediate_size=2304, num_hidden_layers=17,
               num_attention_heads=4, num_key_value_heads=1, head_dim=128,
               max_position_embeddings=1024)
# "tiny512": one layer, but the real hidden size (the official infer_batch assumes 512 channels)
TINY512_LM = dict(hidden_size=512, intermediate_size=256, num_hidden_layers=1, num_attention_heads=4,
                  num_key_value_heads=1, head_dim=128, max_position_embeddings=1024)
TINY_LM = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
               num_key_value_heads=1, head_dim=32, max_position_embeddings=1024)


def lm_config(size: str = "tiny") -> Any:
    """A Qwen3Config of Soprano's shape ("full") or a small one ("tiny")."""
    from transformers import Qwen3Config

    dims = {"full": FULL_LM, "tiny512": TINY512_LM}.get(size, TINY_LM)
    return Qwen3Config(vocab_size=8192, rms_norm_eps=1e-6, rope_theta=10000.0,
                       tie_word_embeddings=False, attention_bias=False, bos_token_id=3,
                       eos_token_id=3, pad_token_id=3, hidden_act="silu", **dims)


def decoder_config(size: str = "tiny", variant: str = "1.1") -> DecoderConfig:
    """The decoder of Soprano-1.1-80M ("1.1") or Soprano-80M ("80m"), or a tiny one."""
    kernel = 1 if variant == "1.1" else 3
    if size == "full":
        return DecoderConfig(dim=768 if variant == "1.1" else 512, embed_kernel=kernel)
    channels = 512 if size == "tiny512" else 64
    return DecoderConfig(input_channels=channels, dim=32, num_layers=2, embed_kernel=kernel)


def write_tokenizer(path: Path) -> None:
    """``tokenizer.json`` and ``tokenizer_config.json`` with the real tokenizer's special ids."""
    from tokenizers import AddedToken, Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    audio = [f"[{i}]" for i in range(8000)]
    vocab = {tok: i for i, tok in enumerate(SPECIALS + audio)}
    vocab.update({c: len(SPECIALS) + len(audio) + i for i, c in enumerate(TEXT_CHARS)})
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tok.add_special_tokens([AddedToken(t, special=True) for t in SPECIALS + audio])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[STOP]",
                                   eos_token="[STOP]", bos_token="[STOP]", padding_side="left")
    fast.save_pretrained(str(path))  # left padding: what batched generate needs (the real
    # tokenizer_config.json was not seen)


def make_model_dir(path: Path, size: str = "tiny", variant: str = "1.1", seed: int = 0,
                   dtype: torch.dtype = torch.float32, logit_scale: float | None = None) -> Path:
    """Write a random-weight Soprano folder into ``path``; returns it.

    ``logit_scale``: std of the ``lm_head`` weights (default: 25 for "tiny", 9 for "tiny512", which makes the
    logits as peaked as a trained model's, so that the official sampler at temperature 0.001
    never meets a near-tie and is deterministic; 0.04 for "full").
    """
    from transformers import Qwen3ForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    cfg = lm_config(size)
    lm = Qwen3ForCausalLM(cfg).to(dtype)
    with torch.no_grad():  # random weights big enough that greedy decoding is not all ties
        for name, p in lm.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.08 if size == "tiny" else 0.04)
        head_std = logit_scale or (0.04 if size == "full" else 25.0 if size == "tiny" else 9.0)
        lm.lm_head.weight.normal_(0.0, head_std)
    lm.save_pretrained(str(path), safe_serialization=True)
    write_tokenizer(path)
    decoder = SopranoDecoder(decoder_config(size, variant))
    with torch.no_grad():
        for name, p in decoder.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.02)
    torch.save(decoder.state_dict(), path / "decoder.pth")
    return path

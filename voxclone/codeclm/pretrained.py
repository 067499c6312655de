"""``CodecLM``: a trained AR + NAR + codec + text tokenizer, for synthesis with a reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from voxclone.audio.types import Audio
from voxclone.codeclm.ar import ARModel
from voxclone.codeclm.codec import Codec, load_codec
from voxclone.codeclm.config import ARConfig, NARConfig
from voxclone.codeclm.generate import LengthMode, generate_ar, generate_nar
from voxclone.codeclm.sampling import SamplingConfig
from voxclone.codeclm.nar import NARModel
from voxclone.codeclm.text_tokens import TextTokenizer
from voxclone.errors import ModelNotFound, ProfileVersionError

META_VERSION = 1
"""Format of a checkpoint's ``meta.json`` (written by training, read here)."""


def read_meta(folder: str | Path) -> dict[str, Any]:
    """``meta.json`` of a checkpoint folder, version-checked (ModelNotFound when it is missing,
    ProfileVersionError for a format this voxclone does not read)."""
    path = Path(folder) / "meta.json"
    if not path.is_file():
        raise ModelNotFound(f"{folder} is not a codec-LM checkpoint (no meta.json): give a "
                            "runs/NAME/checkpoints/step-N folder of a training run.")
    meta = json.loads(path.read_text())
    if meta.get("version") != META_VERSION:
        raise ProfileVersionError(f"{path} has format {meta.get('version')}; this voxclone reads "
                                  f"{META_VERSION}.")
    return meta


class CodecLM:
    """Inference: [prompt text + text ; prompt codes] → AR level 0 → NAR levels 1.. → codec."""

    def __init__(self, ar: ARModel, nar: NARModel, codec: Codec, tokenizer: TextTokenizer,
                 length_control: LengthMode = "stop_token") -> None:
        self.ar, self.nar, self.codec, self.tokenizer = ar, nar, codec, tokenizer
        self.length_control = length_control

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu") -> "CodecLM":
        """Load a checkpoint folder written by training (model.safetensors, meta.json, codec)."""
        folder = Path(path)
        meta = read_meta(folder)
        if not (folder / "model.safetensors").is_file():
            raise ModelNotFound(f"{folder} is not a codec-LM checkpoint (no model.safetensors): "
                                "give a runs/NAME/checkpoints/step-N folder.")
        codec = load_codec(folder)
        if codec.content_hash != meta["codec"]["hash"]:
            raise ModelNotFound(f"{folder}: the codec does not match the one the model was trained with.")
        ar, nar = ARModel(ARConfig.from_dict(meta["ar"])), NARModel(NARConfig.from_dict(meta["nar"]))
        weights = load_file(str(folder / "model.safetensors"), device=device)
        ar.load_state_dict({k[3:]: v for k, v in weights.items() if k.startswith("ar.")})
        nar.load_state_dict({k[4:]: v for k, v in weights.items() if k.startswith("nar.")})
        return cls(ar.to(device).eval(), nar.to(device).eval(), codec,
                   TextTokenizer.from_dict(meta["tokenizer"]), meta.get("length_control", "stop_token"))

    def generate_codes(self, text: np.ndarray, prompt_text: np.ndarray | None = None,
                       prompt_codes: np.ndarray | None = None, sampling: SamplingConfig = SamplingConfig(),
                       max_frames: int = 1500, target_frames: int | None = None,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """Codes (n_q, T) for text ids ``text`` after the prompt (ids + codes [n_q, Tp])."""
        dev = next(self.ar.parameters()).device
        ids = np.concatenate([prompt_text, text]) if prompt_text is not None else text
        ids_t = torch.as_tensor(ids, dtype=torch.long, device=dev)
        p0 = prompt = None
        n_q = self.nar.config.n_q
        if prompt_codes is not None:
            prompt = torch.as_tensor(np.asarray(prompt_codes)[:n_q], dtype=torch.long, device=dev)
            p0 = prompt[0]
        if self.length_control == "length_prompt" and target_frames is None:
            target_frames = self.estimate_frames(len(text), prompt_text, prompt_codes)
        codes0 = generate_ar(self.ar, ids_t, p0, self.length_control, target_frames, max_frames,
                             sampling=sampling, generator=generator)
        if len(codes0) == 0:
            codes0 = torch.zeros(1, dtype=torch.long)
        return generate_nar(self.nar, ids_t, codes0.to(dev), prompt)

    def estimate_frames(self, n_text: int, prompt_text, prompt_codes, speed: float = 1.0) -> int:
        """Target frames for ``n_text`` symbols at the prompt's symbols-per-frame (12 frames per
        symbol without a prompt), divided by ``speed``."""
        if prompt_text is not None and prompt_codes is not None and len(prompt_text):
            rate = np.asarray(prompt_codes).shape[1] / len(prompt_text)
        else:
            rate = 12.0
        return max(1, int(round(n_text * rate / speed)))

    def synthesize(self, text: str, prompt_audio: Audio | None = None, prompt_text: str | None = None,
                   sampling: SamplingConfig = SamplingConfig(), max_seconds: float = 20.0,
                   speed: float = 1.0, seed: int | None = None) -> Audio:
        """Speech for ``text`` in the voice of ``prompt_audio`` (whose transcript is ``prompt_text``)."""
        ids = np.asarray(self.tokenizer.encode(text))
        p_ids = p_codes = None
        if prompt_audio is not None:
            if not prompt_text:
                from voxclone.errors import TextError

                raise TextError("A codec-LM prompt needs the reference's transcript.")
            p_ids = np.asarray(self.tokenizer.encode(prompt_text.strip() + " "))
            p_codes = self.codec.encode(prompt_audio)
        target = None
        if self.length_control == "length_prompt":
            target = self.estimate_frames(len(ids), p_ids, p_codes, speed)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        codes = self.generate_codes(ids, p_ids, p_codes, sampling,
                                    int(max_seconds * self.codec.frame_rate), target, gen)
        return self.codec.decode(codes.numpy())

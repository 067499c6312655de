"""The codec-LM training loop: AR (level 0 + EOS) and NAR (levels 1..n_q-1) trained together."""

from __future__ import annotations

import contextlib
import logging
import random
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from voxclone.codeclm.ar import ARModel
from voxclone.codeclm.config import model_preset
from voxclone.codeclm.nar import NARModel
from voxclone.codeclm.text_tokens import TextTokenizer
from voxclone.train import checkpoint as ckpt
from voxclone.train import losses
from voxclone.train.config import TrainConfig, to_yaml
from voxclone.train.data import Batch, BucketSampler, Item, collate
from voxclone.train.monitor import (JsonlLog, NonFiniteGuard, SpikeDetector, attention_entropy,
                                    code_usage, grad_norms, plot_curves)
from voxclone.train.schedule import lr_factor, teacher_forcing

log = logging.getLogger(__name__)


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA, else MPS, else CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from voxclone.errors import EngineUnavailable

        raise EngineUnavailable("--device cuda asked for, but torch sees no CUDA device: use auto or cpu.")
    return torch.device(name)


class CodecLMTrainer:
    """Owns the models, optimiser, schedule, sampler and monitors of one run folder."""

    def __init__(self, cfg: TrainConfig, train_items: list[Item], val_items: list[Item], codec,
                 tokenizer: TextTokenizer, run_dir: Path,
                 sample_check: Callable[[Any, float], dict[str, Any]] | None = None) -> None:
        self.cfg, self.codec, self.tokenizer = cfg, codec, tokenizer
        self.train_items, self.val_items = train_items, val_items
        self.run_dir, self.sample_check = Path(run_dir), sample_check
        torch.set_num_threads(max(1, cfg.threads))
        random.seed(cfg.seed)
        np.random.seed(cfg.seed)
        torch.manual_seed(cfg.seed)
        self.device = pick_device(cfg.device)
        ar_cfg, nar_cfg = model_preset(cfg.model.size, len(tokenizer.symbols), codec.n_codes,
                                       min(cfg.codec.n_q, codec.n_q), cfg.model.dropout)
        self.ar, self.nar = ARModel(ar_cfg).to(self.device), NARModel(nar_cfg).to(self.device)
        self.params = [*self.ar.parameters(), *self.nar.parameters()]
        o = cfg.optim
        self.opt = torch.optim.AdamW(self.params, lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: lr_factor(s, o.warmup_steps, cfg.max_steps, o.decay, o.min_lr_ratio))
        self.amp_dtype = self._amp_dtype()
        self.scaler = (torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None)
        self.sampler = BucketSampler([it.codes.shape[1] for it in train_items], cfg.data.batch_frames,
                                     cfg.data.max_batch, cfg.seed)
        self.step = 0
        self.guard = NonFiniteGuard(cfg.monitor.max_nonfinite)
        self.spike = SpikeDetector(cfg.monitor.spike_z)
        self.log = JsonlLog(self.run_dir / "log.jsonl")
        self.should_stop: Callable[[], bool] = lambda: False

    # ---- losses -------------------------------------------------------------------------
    def _amp_dtype(self) -> torch.dtype | None:
        amp = self.cfg.optim.amp
        if amp == "off" or (amp == "auto" and self.device.type != "cuda"):
            return None
        if amp == "bf16" or torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16

    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def teacher_forcing(self, step: int) -> float:
        ss = self.cfg.scheduled_sampling
        return teacher_forcing(step, ss.start, ss.end, ss.start_step, ss.end_step or self.cfg.max_steps)

    def ar_loss(self, b: Batch, p_tf: float, gen: torch.Generator | None = None):
        """AR loss, metrics and argmax codes of a batch (see :func:`losses.ar_loss`)."""
        m = self.cfg.model
        return losses.ar_loss(self.ar, b, p_tf, m.length_control, m.duration_weight, gen)

    def nar_loss(self, b: Batch, gen: torch.Generator | None = None):
        """NAR loss and metrics of a batch (see :func:`losses.nar_loss`)."""
        return losses.nar_loss(self.nar, b, self.cfg.nar, gen)

    # ---- steps --------------------------------------------------------------------------
    def train_step(self) -> dict[str, Any]:
        """One optimiser step over ``grad_accum`` micro-batches; returns its log record."""
        cfg = self.cfg
        self.ar.train()
        self.nar.train()
        p_tf = self.teacher_forcing(self.step)
        self.opt.zero_grad(set_to_none=True)
        sums: dict[str, float] = defaultdict(float)
        total = 0.0
        for _ in range(cfg.optim.grad_accum):
            batch = self._batch([self.train_items[i] for i in self.sampler.next_batch()])
            with self._autocast():
                ar_l, ar_m, _ = self.ar_loss(batch, p_tf)
                nar_l, nar_m = self.nar_loss(batch)
                loss = (ar_l + nar_l) / cfg.optim.grad_accum
            (self.scaler.scale(loss) if self.scaler else loss).backward()
            total += float(loss.detach())
            for k, v in {**ar_m, **nar_m}.items():
                sums[k] += v / cfg.optim.grad_accum
        if self.scaler:
            self.scaler.unscale_(self.opt)
        clip = cfg.optim.grad_clip if cfg.optim.grad_clip > 0 else float("inf")
        gnorm = float(torch.nn.utils.clip_grad_norm_(self.params, clip))
        record: dict[str, Any] = {"step": self.step + 1, "loss": total, **sums, "grad_norm": gnorm,
                                  "lr_factor": self.sched.get_last_lr()[0] / cfg.optim.lr,
                                  "teacher_forcing": p_tf}
        if (self.step + 1) % max(1, cfg.monitor.grad_norm_every) == 0:
            record["grad_norms"] = grad_norms({"ar": self.ar, "nar": self.nar})
        finite = self.guard.check(total + gnorm, self.step + 1)
        if finite:
            if self.scaler:
                self.scaler.step(self.opt)
            else:
                self.opt.step()
            spike = self.spike.update(total)
            if spike is not None:
                record["spike_z"] = spike
                log.warning("loss spike at step %d: z = %.1f", self.step + 1, spike)
        else:
            self.opt.zero_grad(set_to_none=True)
            record["skipped"] = True
        if self.scaler:
            self.scaler.update()
        record["nonfinite_steps"] = self.guard.count
        self.sched.step()
        self.step += 1
        return record

    def _batch(self, items: list[Item]) -> Batch:
        return collate(items).to(self.device)

    @torch.no_grad()
    def validate(self) -> dict[str, Any]:
        """Validation losses/accuracies at p_tf = 1, predicted-code use and attention entropy;
        its random draws come from a fixed generator, so training is not disturbed."""
        items = self.val_items or self.train_items[:1]
        self.ar.eval()
        self.nar.eval()
        gen = torch.Generator().manual_seed(self.cfg.seed + 1)
        sums: dict[str, float] = defaultdict(float)
        preds = []
        chunks = [items[i:i + self.cfg.data.max_batch] for i in range(0, len(items), self.cfg.data.max_batch)]
        for chunk in chunks:
            b = self._batch(chunk)
            with self._autocast():
                _, ar_m, pred = self.ar_loss(b, 1.0, gen)
                _, nar_m = self.nar_loss(b, gen)
            preds.append(pred[pred >= 0].cpu())
            for k, v in {**ar_m, **nar_m}.items():
                sums[k] += v * len(chunk) / len(items)
        first = self._batch(chunks[0])
        lvl = torch.ones(len(chunks[0]), dtype=torch.long, device=self.device)
        usage = code_usage(torch.cat(preds), self.codec.n_codes)
        return {"step": self.step, **{f"val_{k}": v for k, v in sums.items() if k != "replaced"},
                "val_pred_perplexity": usage["perplexity"], "val_pred_dead": usage["dead"],
                "attn_entropy_ar": attention_entropy(self.ar, lambda: self.ar(
                    first.text, first.text_lens, first.codes[:, 0], first.code_lens)),
                "attn_entropy_nar": attention_entropy(self.nar, lambda: self.nar(
                    first.text, first.text_lens, first.codes, first.code_lens, lvl))}

    def data_usage(self) -> dict[str, Any]:
        """Codebook use of the training tokens, per level."""
        levels = []
        for lvl in range(self.nar.config.n_q):
            codes = torch.from_numpy(np.concatenate([it.codes[lvl] for it in self.train_items]))
            levels.append(code_usage(codes, self.codec.n_codes))
        return {"step": self.step, "codebook": levels}

    # ---- run ----------------------------------------------------------------------------
    def fit(self, until: int | None = None, progress: bool = False) -> None:
        """Train to step ``until`` (default max_steps): log, validate, sample and save on the way."""
        cfg, m = self.cfg, self.cfg.monitor
        end = min(until or cfg.max_steps, cfg.max_steps)
        if self.step == 0:
            self.log.write(self.data_usage())
        from tqdm import tqdm

        bar = tqdm(total=end, initial=self.step, desc="train", disable=not progress)
        while self.step < end and not self.should_stop():
            record = self.train_step()
            bar.update(1)
            bar.set_postfix(ar=f"{record['ar_loss']:.2f}", nar=f"{record['nar_loss']:.2f}")
            if self.step % max(1, m.log_every) == 0 or self.step == end or "spike_z" in record:
                self.log.write(record)
            if m.val_every and self.step % m.val_every == 0:
                self.log.write(self.validate())
            if m.sample_every and self.step % m.sample_every == 0:
                self.log.write(self.sample())
            if self.step % max(1, cfg.save_every) == 0 or self.step == end:
                self.save()
        bar.close()
        if self.should_stop() and self.step % max(1, cfg.save_every):
            self.save()
        plot_curves(self.log.read(), self.run_dir / "curves.png")

    def sample(self) -> dict[str, Any]:
        """Speak the first validation text with the first training utterance as the prompt; save
        the WAV under samples/ and run ``sample_check`` (failure flags) on it."""
        from voxclone.audio.io import save
        from voxclone.codeclm.pretrained import CodecLM

        lm = CodecLM(self.ar, self.nar, self.codec, self.tokenizer, self.cfg.model.length_control)
        prompt, target = self.train_items[0], (self.val_items or self.train_items)[0]
        gen = torch.Generator().manual_seed(self.cfg.seed + self.step)
        codes = lm.generate_codes(target.text, prompt.text, prompt.codes, generator=gen,
                                  max_frames=2 * target.codes.shape[1] + 10)
        audio = self.codec.decode(codes.numpy())
        path = save(audio, self.run_dir / "samples" / f"step-{self.step:07d}.wav")
        expected = target.codes.shape[1] / self.codec.frame_rate
        record = {"step": self.step, "sample": str(path), "sample_seconds": audio.duration,
                  "expected_seconds": expected, "text_id": target.id, "prompt_id": prompt.id}
        if self.sample_check is not None:
            record["flags"] = self.sample_check(audio, expected)
        return record

    # ---- checkpoints --------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        return {"ar": self.ar.config.to_dict(), "nar": self.nar.config.to_dict(),
                "tokenizer": self.tokenizer.to_dict(),
                "length_control": self.cfg.model.length_control,
                "codec": {"id": self.codec.id, "hash": self.codec.content_hash},
                "step": self.step}

    def save(self) -> Path:
        weights = {**{f"ar.{k}": v for k, v in self.ar.state_dict().items()},
                   **{f"nar.{k}": v for k, v in self.nar.state_dict().items()}}
        state = {"step": self.step, "optimizer": self.opt.state_dict(),
                 "scheduler": self.sched.state_dict(), "rng": ckpt.rng_state(),
                 "sampler": self.sampler.state_dict(), "nonfinite": self.guard.count,
                 "spike": self.spike.state_dict(),
                 "scaler": self.scaler.state_dict() if self.scaler else {}}
        folder = ckpt.save_checkpoint(self.run_dir / "checkpoints" / f"step-{self.step:07d}",
                                      weights, self.meta(), state, to_yaml(self.cfg), self.codec)
        ckpt.prune(self.run_dir, self.cfg.keep)
        return folder

    def resume(self, folder: Path) -> None:
        """Restore weights, optimiser, schedule, RNG, sampler and monitors from ``folder``."""
        meta = ckpt.read_meta(folder)
        if meta["codec"]["hash"] != self.codec.content_hash:
            from voxclone.errors import VoxcloneError

            raise VoxcloneError(f"{folder} was trained with codec {meta['codec']['hash']}, this run "
                                f"has {self.codec.content_hash}: resume with the same codec.")
        weights = ckpt.load_weights(folder, self.device)
        self.ar.load_state_dict({k[3:]: v for k, v in weights.items() if k.startswith("ar.")})
        self.nar.load_state_dict({k[4:]: v for k, v in weights.items() if k.startswith("nar.")})
        state = ckpt.load_state(folder, "cpu")
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        if self.scaler and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.sampler.load_state_dict(state["sampler"])
        self.guard.count = int(state["nonfinite"])
        self.spike.load_state_dict(state["spike"])
        self.step = int(state["step"])
        ckpt.set_rng_state(state["rng"])
        self.log.truncate_after(self.step)


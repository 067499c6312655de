"""Codec-LM model invariants, memorisation of one real utterance, and the length-control modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from voxclone.codeclm.ar import ARModel
from voxclone.codeclm.config import model_preset
from voxclone.codeclm.generate import generate_ar, generate_nar, predicted_frames
from voxclone.codeclm.layers import AdaptiveLayerNorm
from voxclone.codeclm.nar import NARModel
from voxclone.codeclm.text_tokens import TextTokenizer
from voxclone.codeclm.world_rvq import WorldRVQCodec, WorldRVQConfig
from voxclone.train.config import load_config
from voxclone.train.data import Item
from voxclone.train.testing import ARCTIC_TEXT, arctic_clip
from voxclone.train.trainer import CodecLMTrainer

torch.set_num_threads(1)


def _tiny(n_text=40, n_codes=64, n_q=4):
    torch.manual_seed(0)
    ar_cfg, nar_cfg = model_preset("tiny", n_text, n_codes, n_q, dropout=0.0)
    return ARModel(ar_cfg).eval(), NARModel(nar_cfg).eval()


def _batch(b=2, lt=9, t=20, n_q=4, n_text=40, n_codes=64, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(2, n_text, (b, lt), generator=g), torch.full((b,), lt),
            torch.randint(0, n_codes, (b, n_q, t), generator=g), torch.full((b,), t))


def test_presets_have_the_specified_sizes():
    ar, nar = model_preset("base", 100, 1024, 8)
    assert (ar.d_model, ar.n_heads, ar.n_layers) == (512, 8, 12)
    n_ar = sum(p.numel() for p in ARModel(ar).parameters())
    n_nar = sum(p.numel() for p in NARModel(nar).parameters())
    assert 35e6 < n_ar < 50e6 and 25e6 < n_nar < 35e6


def test_ar_is_causal_over_audio():
    ar, _ = _tiny()
    text, tl, codes, cl = _batch()
    base = ar(text, tl, codes[:, 0], cl)
    changed = codes[:, 0].clone()
    changed[:, 12:] = (changed[:, 12:] + 7) % 64
    out = ar(text, tl, changed, cl)
    # position t sees BOS + codes < t: positions 0..12 see nothing that changed
    assert torch.allclose(base[:, :13], out[:, :13], atol=1e-6)
    assert not torch.allclose(base[:, 13:], out[:, 13:], atol=1e-3)


def test_padding_does_not_change_outputs():
    ar, nar = _tiny()
    text, tl, codes, cl = _batch(b=1, lt=7, t=15)
    single_ar = ar(text, tl, codes[:, 0], cl)
    single_nar = nar(text, tl, codes, cl, torch.tensor([2]))
    pad_text = torch.cat([text, torch.zeros(1, 5, dtype=torch.long)], 1)
    pad_codes = torch.cat([codes, torch.zeros(1, 4, 9, dtype=torch.long)], 2)
    other_text, _, other_codes, _ = _batch(b=1, lt=12, t=24, seed=5)
    text2, codes2 = torch.cat([pad_text, other_text]), torch.cat([pad_codes, other_codes])
    tl2, cl2 = torch.tensor([7, 12]), torch.tensor([15, 24])
    both_ar = ar(text2, tl2, codes2[:, 0], cl2)
    both_nar = nar(text2, tl2, codes2, cl2, torch.tensor([2, 3]))
    assert torch.allclose(both_ar[0, :16], single_ar[0], atol=1e-5)
    assert torch.allclose(both_nar[0, :15], single_nar[0], atol=1e-5)


def test_nar_output_depends_on_the_level_and_adaln_starts_as_layernorm():
    _, nar = _tiny()
    text, tl, codes, cl = _batch()
    a = nar(text, tl, codes, cl, torch.tensor([1, 1]))
    b = nar(text, tl, codes, cl, torch.tensor([2, 2]))
    assert not torch.allclose(a, b, atol=1e-3)
    norm, x = AdaptiveLayerNorm(16), torch.randn(2, 5, 16)
    assert torch.allclose(norm(x, torch.randn(2, 16)), torch.nn.functional.layer_norm(x, (16,)), atol=1e-6)


def test_initial_loss_is_about_ln_vocab():
    ar, nar = _tiny(n_codes=256)
    text, tl, codes, cl = _batch(n_codes=256, t=60)
    logits = ar(text, tl, codes[:, 0], cl)[:, :-1]
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 257), codes[:, 0].reshape(-1))
    assert abs(float(ce) - math.log(257)) < 0.5
    nl = nar(text, tl, codes, cl, torch.tensor([1, 3]))
    ce_nar = torch.nn.functional.cross_entropy(nl.reshape(-1, 256), codes[:, 1].reshape(-1))
    assert abs(float(ce_nar) - math.log(256)) < 0.5


# ---- memorisation of one real utterance (CMU ARCTIC clip, WORLD-RVQ 4 × 64) ------------------

def _memorise(length_control: str, max_steps: int = 400):
    clip = arctic_clip()
    codec = WorldRVQCodec.fit([clip], WorldRVQConfig(n_q=4, n_codes=64, f0_method="dio"))
    codes = codec.encode(clip)
    tok = TextTokenizer().fit([ARCTIC_TEXT])
    item = Item("arctic", np.asarray(tok.encode(ARCTIC_TEXT)), codes)
    cfg = load_config(None, ["model.size=tiny", "model.dropout=0", "optim.lr=3e-3",
                             "optim.warmup_steps=5", "optim.decay=none", f"max_steps={max_steps}",
                             "nar.prompt_min=0", "nar.prompt_max=0", "monitor.val_every=0",
                             f"model.length_control={length_control}", "model.duration_weight=1.0"])
    trainer = CodecLMTrainer(cfg, [item], [], codec, tok, "/nonexistent-run")
    text = torch.as_tensor(item.text)
    last = None
    for step in range(max_steps):
        last = trainer.train_step()
        if step % 25 == 24 and last["ar_loss"] < 0.05 and _nar_match(trainer, text, codes).min() >= 0.99:
            break
    return trainer, item, codes, last


def _nar_match(trainer, text, codes) -> np.ndarray:
    full = generate_nar(trainer.nar, text, torch.as_tensor(codes[0]))
    trainer.nar.train()
    return (full.numpy()[1:] == codes[1:]).mean(axis=1)


@pytest.fixture(scope="module")
def memorised():
    return _memorise("stop_token")


def test_memorised_utterance_is_replayed_exactly(memorised):
    trainer, item, codes, last = memorised
    assert last["ar_loss"] < 0.05
    text = torch.as_tensor(item.text)
    out = generate_ar(trainer.ar, text)  # greedy, stop token
    assert len(out) == codes.shape[1]  # EOS at the right frame
    assert np.array_equal(out.numpy(), codes[0])
    assert _nar_match(trainer, text, codes).min() >= 0.99


def test_duration_predictor_mode_gives_the_predicted_length(memorised):
    trainer, item, codes, _ = memorised
    text = torch.as_tensor(item.text)
    predicted = predicted_frames(trainer.ar, text)
    assert abs(predicted - codes.shape[1]) <= 0.1 * codes.shape[1]  # it learned this utterance
    out = generate_ar(trainer.ar, text, mode="duration_predictor")
    assert len(out) == predicted
    prompt = torch.as_tensor(codes[0][:100])
    assert len(generate_ar(trainer.ar, text, prompt, mode="duration_predictor")) == predicted - 100


def test_length_prompt_mode_gives_the_asked_lengths():
    trainer, item, codes, last = _memorise("length_prompt", max_steps=150)
    text = torch.as_tensor(item.text)
    t = codes.shape[1]
    for target in (t // 2, t, t + 40):
        assert len(generate_ar(trainer.ar, text, mode="length_prompt", target_frames=target)) == target
    same = generate_ar(trainer.ar, text, mode="length_prompt", target_frames=t)
    assert (same.numpy() == codes[0]).mean() > 0.95


def test_incremental_decoding_matches_the_full_forward():
    ar, _ = _tiny()
    text, tl, codes, cl = _batch(b=1, t=12)
    full = ar(text, tl, codes[:, 0], cl)  # (1, 13, V)
    caches = [{} for _ in ar.blocks]
    first, _ = ar.forward_with_states(text, tl, codes[:, 0, :5], torch.tensor([5]), None, caches)
    assert torch.allclose(first[0, -1], full[0, 5], atol=1e-5)
    for t in range(5, 12):
        step = ar.step(codes[:, 0, t], t + 1, caches)
        assert torch.allclose(step[0], full[0, t + 1], atol=1e-5)


def test_sampling_filters_and_repetition_aware_resampling():
    from voxclone.codeclm.sampling import SamplingConfig, filter_logits, sample_next

    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert torch.isinf(filter_logits(logits, 2, 1.0)[2:]).all()
    assert torch.isfinite(filter_logits(logits, 0, 0.7)[:2]).all()
    assert torch.isinf(filter_logits(logits, 0, 0.7)[2:]).all()
    g = torch.Generator().manual_seed(0)
    cfg = SamplingConfig(temperature=1.0, top_k=1, top_p=1.0, ras_window=10, ras_threshold=0.5)
    assert {sample_next(logits, [], cfg, g) for _ in range(50)} == {0}
    repeated = [sample_next(logits, [0] * 10, cfg, g) for _ in range(200)]
    assert 0 < sum(c != 0 for c in repeated) < 200  # a loop is broken by drawing from all codes


def test_phoneme_text_tokens():
    tok = TextTokenizer("phoneme", "en").fit(["Hello world."])
    ids = tok.encode("Hello world.")
    assert len(ids) >= 6 and 1 not in ids
    assert TextTokenizer.from_dict(tok.to_dict()).encode("world") == tok.encode("world")

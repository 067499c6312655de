"""The embedded WORLD-RVQ codec: shapes, token ranges, determinism, save/load, held-out MCD."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voxclone.audio.io import load
from voxclone.codeclm.codec import load_codec
from voxclone.codeclm.kmeans import rvq_decode, rvq_encode
from voxclone.codeclm.world_rvq import WorldRVQCodec, WorldRVQConfig, mel_cepstral_distortion
from voxclone.errors import AudioError, ModelNotFound
from voxclone.train.testing import arctic_clip

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval-data"
SMALL = WorldRVQConfig(n_q=4, n_codes=64, f0_method="dio")


@pytest.fixture(scope="module")
def fitted():
    clip = arctic_clip()
    return clip, WorldRVQCodec.fit([clip], SMALL)


def test_round_trip_lengths_and_token_ranges(fitted):
    clip, codec = fitted
    codes = codec.encode(clip)
    assert codes.shape == (4, int(clip.duration * 24000) // 320)
    assert codes.dtype == np.int64 and codes.min() >= 0 and codes.max() < 64
    audio = codec.decode(codes)
    assert audio.sample_rate == 24000 and len(audio) == codes.shape[1] * 320
    assert codec.frame_rate == 75.0
    assert len(codec.decode(codes[:1])) == codes.shape[1] * 320  # fewer levels decode too
    assert np.sqrt(np.mean(audio.samples**2)) > 0.01  # speech, not silence
    with pytest.raises(AudioError):
        codec.decode(codes + 64)


def test_same_seed_and_data_give_the_same_codebook_hash(fitted):
    clip, codec = fitted
    again = WorldRVQCodec.fit([clip], SMALL)
    other = WorldRVQCodec.fit([clip], WorldRVQConfig(n_q=4, n_codes=64, f0_method="dio", seed=1))
    assert again.content_hash == codec.content_hash
    assert np.array_equal(again.books, codec.books)
    assert other.content_hash != codec.content_hash


def test_save_load_keeps_the_hash_and_refuses_a_changed_file(fitted, tmp_path):
    _, codec = fitted
    codec.save(tmp_path)
    assert load_codec(tmp_path).content_hash == codec.content_hash
    books = np.load(tmp_path / "world_rvq.npy")
    books[0, 0, 0] += 1.0
    np.save(tmp_path / "world_rvq.npy", books)
    with pytest.raises(ModelNotFound):
        load_codec(tmp_path)


def test_too_little_audio_to_fit_is_a_clear_error():
    with pytest.raises(AudioError, match="too few"):
        WorldRVQCodec.fit([arctic_clip().slice(0, 1.0)], WorldRVQConfig(n_codes=1024))


@pytest.mark.slow
@pytest.mark.eval
def test_held_out_mcd_on_eval_data_is_under_3_db():
    """8 × 256 codes fitted on 20 LJ Speech clips, measured on 5 held-out ones: the mel-cepstral
    distortion (c1..c39) between a clip's WORLD frames and their quantised version."""
    clips = sorted((EVAL / "ljspeech").rglob("*.flac"))
    if len(clips) < 30:
        pytest.skip("../shared/eval-data/ljspeech is not here")
    cfg = WorldRVQConfig(n_q=8, n_codes=256, kmeans_iters=15, f0_method="dio")
    codec = WorldRVQCodec.fit([load(p) for p in clips[:20]], cfg)
    order = cfg.order
    mcds = []
    for path in clips[25:30]:
        feats = codec.features(load(path))
        quantised = rvq_decode(rvq_encode(feats, codec.books), codec.books)
        mcds.append(mel_cepstral_distortion(feats[:, : order + 1], quantised[:, : order + 1]))
    print(f"held-out MCD {np.mean(mcds):.2f} dB per clip {np.round(mcds, 2).tolist()}")
    assert float(np.mean(mcds)) <= 3.0, mcds

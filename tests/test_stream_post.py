"""The post stage of sub-sentence streaming: running level, soxr stream, streamed watermark."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.audio import Audio
from voxclone.audio.dsp import rms_db
from voxclone.pipeline.config import PipelineConfig
from voxclone.pipeline.stream_post import StreamPost
from voxclone.provenance.stream_mark import StreamMarker
from voxclone.provenance.watermark import detect, embed


def _chunks(x: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    out, i = [], 0
    for n in sizes:
        out.append(x[i:i + n])
        i += n
    return out + [x[i:]]


def test_streamed_mark_is_detected_and_keeps_every_sample(espeak) -> None:
    speech = espeak.synthesize("The quick brown fox jumps over the lazy dog, twice, and then "
                               "once more for luck.", "en")
    marker = StreamMarker(speech.sample_rate)
    sizes = [1411] + [5645] * (len(speech) // 5645 - 1)
    out = np.concatenate([marker.push(c) for c in _chunks(speech.samples, sizes)] + [marker.finish()])
    assert len(out) == len(speech)
    streamed = Audio(out, speech.sample_rate)
    assert not detect(speech).watermarked
    assert detect(streamed).confidence > 0.9
    whole = embed(speech).samples - speech.samples
    # the streamed mark is as strong as the whole-clip mark and as far under the speech
    mark = out - speech.samples
    assert 0.5 < np.sqrt(np.mean(mark ** 2)) / np.sqrt(np.mean(whole ** 2)) < 2.0
    assert 10 * np.log10(np.mean(speech.samples ** 2) / np.mean(mark ** 2)) > 10.0


@pytest.mark.parametrize("out_rate", [None, 24000])
def test_running_level_reaches_the_target_and_keeps_the_length(espeak, out_rate) -> None:
    speech = espeak.synthesize("A sentence spoken quietly, to be levelled while it streams out.", "en")
    quiet = speech.samples * np.float32(0.05)
    config = PipelineConfig(watermark=False, output_sample_rate=out_rate)
    post = StreamPost(speech.sample_rate, config)
    pieces = [post.push(c) for c in _chunks(quiet, [2048] * (len(quiet) // 2048))] + [post.finish()]
    out = Audio(np.concatenate([p.samples for p in pieces]), pieces[0].sample_rate)
    rate = out_rate or speech.sample_rate
    assert out.sample_rate == rate
    assert abs(len(out) - len(quiet) * rate / speech.sample_rate) <= 2
    tail = Audio(out.samples[len(out) // 2:], rate)
    assert abs(rms_db(tail) - config.loudness_db) < 3.0  # converged by the second half
    assert np.abs(out.samples).max() <= 0.97 + 1e-6

"""Parity and speed of voxclone's OpenVoice V2 converter against the original OpenVoice code.

Usage: python bench/openvoice_vs_original.py PATH_TO_OPENVOICE_CHECKOUT [--threads 2] [--runs 3]

Both load the same random full-config checkpoint in the official format (strict); the original is
imported from the given checkout (github.com/myshell-ai/OpenVoice), which is not part of this
repository. Prints tone-colour and converted-audio PCC / max difference per backend, then RTF.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
import torch


def pcc(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("openvoice_repo")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sys.path.insert(0, args.openvoice_repo)
    from openvoice.mel_processing import spectrogram_torch
    from openvoice.models import SynthesizerTrn

    from voxclone.convert.openvoice import OpenVoiceConverter
    from voxclone.convert.openvoice.testing import write_random_checkpoint
    from voxclone.eval.bench import speech_of

    torch.set_num_threads(args.threads)
    folder = write_random_checkpoint(tempfile.mkdtemp() + "/v2", seed=1)
    hps = json.loads((folder / "config.json").read_text())
    orig = SynthesizerTrn(0, 513, n_speakers=0, **hps["model"]).eval()
    orig.load_state_dict(torch.load(folder / "checkpoint.pth", weights_only=True)["model"], strict=True)
    audio = speech_of(10.0)
    y = torch.from_numpy(audio.samples)[None]

    def spec() -> torch.Tensor:
        return spectrogram_torch(y, 1024, 22050, 256, 1024, center=False)

    with torch.no_grad():
        g_src = orig.ref_enc(spec().transpose(1, 2)).unsqueeze(-1)
        g_tgt = torch.roll(g_src, 7, dims=1)

    def original() -> np.ndarray:
        with torch.no_grad():
            s = spec()
            return orig.voice_conversion(s, torch.LongTensor([s.size(-1)]), g_src, g_tgt, tau=0.0)[0][0, 0].numpy()

    src, tgt = g_src[0, :, 0].numpy(), g_tgt[0, :, 0].numpy()
    ref = original()
    runs = {"original": original}
    for name in ("torch", "onnxruntime", "onnxruntime-int8", "openvino", "openvino-bf16"):
        backend = name.removesuffix("-bf16")
        conv = OpenVoiceConverter.from_pretrained(folder, backend=backend, num_threads=args.threads,
                                                  precision="bf16" if name.endswith("bf16") else "f32")
        tone = conv.extract_tone_color(audio, vad=False)
        out = conv.convert(audio, src, tgt, tau=0.0).samples
        print(f"{name}: tone PCC {pcc(tone, src):.9f} (max diff {np.abs(tone - src).max():.1e}), "
              f"audio PCC {pcc(out, ref):.9f} (max diff {np.abs(out - ref).max():.1e})")
        runs[name] = lambda conv=conv: conv.convert(audio, src, tgt, tau=0.0)
    times: dict[str, list[float]] = {k: [] for k in runs}
    load = os.getloadavg()[0]
    for _ in range(args.runs):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    print(f"RTF, {args.threads} threads, median of {args.runs} (load average {load:.2f} → {os.getloadavg()[0]:.2f})")
    base = statistics.median(times["original"])
    for name, t in times.items():
        print(f"| {name} | {statistics.median(t) / audio.duration:.3f} | {base / statistics.median(t):.2f}× |")


if __name__ == "__main__":
    main()

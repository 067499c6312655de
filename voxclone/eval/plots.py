"""PNG plots of an evaluation run: similarity per method, per speaker, similarity vs WER."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(items: list[dict[str, Any]], rows: list[dict[str, Any]], out_dir: Path) -> dict[str, Path]:
    """Write the three plots; return their paths by key."""
    plt = _pyplot()
    paths = {"methods_plot": out_dir / "similarity_by_method.png",
             "speakers_plot": out_dir / "similarity_by_speaker.png",
             "scatter_plot": out_dir / "similarity_vs_wer.png"}
    _methods(plt, rows, paths["methods_plot"])
    _speakers(plt, items, [r["method"] for r in rows], paths["speakers_plot"])
    _scatter(plt, items, paths["scatter_plot"])
    return paths


def _methods(plt, rows: list[dict[str, Any]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, max(4, 0.3 * len(rows))))
    names = [r["method"] for r in rows]
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [r.get("similarity_dvec") or 0 for r in rows], 0.4, color="tab:orange",
            label="d-vector (referee)")
    ax.barh(y + 0.2, [r["similarity"] or 0 for r in rows], 0.4, color="tab:blue",
            label="resemblyzer (also selects)")
    ax.set_yticks(y, names)
    ax.set_xlabel("speaker similarity (cosine to held-out clips)")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _speakers(plt, items: list[dict[str, Any]], methods: list[str], path: Path) -> None:
    speakers = sorted({f"{i['set']}/{i['speaker']}" for i in items})
    fig, ax = plt.subplots(figsize=(max(8, len(speakers) * 1.2), 4))
    width = 0.8 / max(len(methods), 1)
    for k, method in enumerate(methods):
        vals = [np.mean([i["similarity"] for i in items if f"{i['set']}/{i['speaker']}" == s
                         and i["method"] == method] or [0]) for s in speakers]
        ax.bar(np.arange(len(speakers)) + k * width, vals, width, label=method)
    ax.set_xticks(np.arange(len(speakers)) + 0.4 - width / 2, speakers, rotation=30, ha="right")
    ax.set_ylabel("similarity")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _scatter(plt, items: list[dict[str, Any]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for method in sorted({i["method"] for i in items}):
        pts = [(i["wer"], i.get("similarity_dvec", i["similarity"])) for i in items
               if i["method"] == method and "wer" in i]
        if pts:
            x, y = zip(*pts)
            ax.scatter(x, y, label=method, s=14)
    ax.set_xlabel("WER (Whisper)")
    ax.set_ylabel("similarity (d-vector referee)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

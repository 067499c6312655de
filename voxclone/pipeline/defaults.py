"""Default cloning pipeline (base TTS, converter) per language, chosen from measurement.

The rule: among the pipelines scored by ``voxclone eval`` on held-out clips and texts, take the
one with the best speaker similarity among those whose WER is within :data:`WER_WINDOW` of the
best WER. Where no WER was measured (the offline ASR is English only) similarity decides alone.
:data:`MEASURED` holds the outcome of the run recorded in the README; :func:`choose_defaults`
applies the rule to any run's aggregate rows, so a new measurement can replace it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from voxclone.text.languages import LANGUAGE_NAMES, normalize_language

WER_WINDOW = 0.10
EMBEDDED = ("espeak", "world")
"""The engine that needs nothing but Debian/PyPI packages: the fallback for unmeasured languages."""
CLONING_TTS = frozenset({"kokoro"})
"""Base engines that clone on their own (Kokoro's style search). With converter ``none`` the
others speak their own fixed voice: a floor, never a candidate default."""


@dataclass(frozen=True)
class LanguageDefault:
    """The chosen pipeline of one language and the figures that chose it."""

    lang: str
    tts: str
    converter: str
    similarity: float | None = None
    wer: float | None = None

    @property
    def pipeline(self) -> str:
        """``tts:converter``."""
        return f"{self.tts}:{self.converter}"


MEASURED: dict[str, LanguageDefault] = {
    d.lang: d for d in (
        # voxclone eval ../shared/eval-data --pipeline espeak:world --pipeline espeak:world-auto
        #   --pipeline kokoro:none --pipeline kokoro:world --pipeline kokoro:world-auto
        #   --langs es,fr,zh,ja --search-steps 60 --no-dnsmos   (2026-11-29 22:40; 9 speakers),
        #   ko from the run of 2026-11-25 13:10 (README)
        LanguageDefault("en", "kokoro", "world-auto", 0.698, 0.534),
        LanguageDefault("es", "kokoro", "world-auto", 0.680),
        LanguageDefault("fr", "kokoro", "world-auto", 0.673),
        LanguageDefault("ja", "kokoro", "world-auto", 0.681),
        LanguageDefault("zh", "kokoro", "world-auto", 0.667),
        LanguageDefault("ko", "espeak", "world", 0.639),
    )
}
"""Defaults from the run in the README ("Default pipeline per language")."""


def default_pipeline(lang: str) -> tuple[str, str]:
    """(tts, converter) that ``voxclone say`` uses for ``lang`` when none is named."""
    code = normalize_language(lang, tuple(LANGUAGE_NAMES))
    chosen = MEASURED.get(code)
    return (chosen.tts, chosen.converter) if chosen else EMBEDDED


def choose_defaults(rows: Iterable[dict[str, Any]]) -> dict[str, LanguageDefault]:
    """Apply the rule to aggregate rows of an eval run (methods ``tts:converter[@lang]``)."""
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("kind") != "tts" or row.get("similarity") is None:
            continue
        method, _, lang = str(row["method"]).partition("@")
        tts, _, converter = method.partition(":")
        if converter in ("", "none") and tts not in CLONING_TTS:
            continue
        by_lang.setdefault(lang or "en", []).append({**row, "method": method})
    chosen = {}
    for lang, group in sorted(by_lang.items()):
        wers = [r["wer"] for r in group if r.get("wer") is not None]
        best_wer = min(wers) if wers else None
        eligible = [r for r in group if best_wer is None
                    or (r.get("wer") is not None and r["wer"] <= best_wer + WER_WINDOW)]
        best = max(eligible, key=lambda r: (r["similarity"], r["method"]))
        tts, _, converter = best["method"].partition(":")
        chosen[lang] = LanguageDefault(lang, tts, converter or "none", best["similarity"],
                                       best.get("wer"))
    return chosen


def defaults_table(chosen: dict[str, LanguageDefault]) -> str:
    """Markdown table of chosen defaults."""
    fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    lines = ["| language | default pipeline | similarity | WER |", "|---|---|---|---|"]
    for lang, d in chosen.items():
        lines.append(f"| {lang} | {d.pipeline} | {fmt(d.similarity)} | {fmt(d.wer)} |")
    return "\n".join(lines)

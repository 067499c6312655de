"""Default cloning pipeline (base TTS, converter) per language, chosen from measurement.

The rule (:data:`RULE`): among the pipelines scored by ``voxclone eval`` on held-out clips and
texts, take the one the *referee* judge (the d-vector encoder, which selects nothing inside the
product) scores most similar, among those whose Whisper WER (CER for zh/ja/ko) is within
:data:`WER_WINDOW` of the language's best. Where a run has no referee score (older runs) the
resemblyzer similarity decides; where it has no error rate, similarity decides alone.
:data:`MEASURED` holds the outcome of the run recorded in the README; :func:`choose_defaults`
applies the rule to any run's aggregate rows, so a new measurement can replace it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from voxclone.text.languages import LANGUAGE_NAMES, normalize_language

WER_WINDOW = 0.05
RULE = (f"best referee (d-vector) similarity among the pipelines whose WER/CER is within "
        f"{WER_WINDOW:.2f} of the best")
EMBEDDED = ("espeak", "world")
"""The engine that needs nothing but Debian/PyPI packages: the fallback for unmeasured languages."""
OTHER_ENGINE_CONVERTER = "world-auto"
"""The converter of a base engine other than the language's default one (measured for espeak-ng,
Piper and Kokoro; needs no per-voice learning)."""
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
    similarity_dvec: float | None = None
    """similarity: resemblyzer; similarity_dvec: the referee; wer: WER (CER for zh/ja/ko)."""

    @property
    def pipeline(self) -> str:
        """``tts:converter``."""
        return f"{self.tts}:{self.converter}"


MEASURED: dict[str, LanguageDefault] = {
    d.lang: d for d in (
        # voxclone eval ../shared/eval-data --pipeline espeak:world --pipeline espeak:world-auto
        #   --pipeline piper:none --pipeline piper:world --pipeline kokoro:none --pipeline kokoro:world
        #   --pipeline kokoro:world-auto --langs es,fr,zh,ja,ko --search-steps 60 --no-dnsmos
        #   (2026-12-01, run per set side by side and joined with `voxclone eval-merge`; 9 speakers;
        #   Whisper WER / CER; similarity = resemblyzer, similarity_dvec = the d-vector referee)
        # en: voxclone eval ../shared/eval-data --pipeline kokoro:world-auto --pipeline
        #   kokoro:adapted --converter world --no-dnsmos (2026-12-01, the same 9 speakers and 60
        #   search steps; bench/results/eval-adapted-full-20261201.*): adapted 0.608 / 0.687 /
        #   WER 0.153 against world-auto's 0.563 / 0.672 / 0.158 in that run. With its F0 map
        #   and dynamics (2026-12-02, the same command, then kokoro:adapted again in the same
        #   home and styles; bench/results/eval-adapted-{base,prosody}-20261202.*): 0.605 /
        #   0.696 / WER 0.133 against world-auto's 0.522 / 0.662 / 0.130. The map is learned
        #   with the refined style (`voices prepare`); until then WORLD's map speaks. With maps
        #   of 750 steps and WORLD's dynamics (2026-12-02, bench/results/eval-dynamics-*-20261202.*
        #   and eval-adapted-750-20261202.*, one home): 0.606 / 0.696 / WER 0.172 against
        #   world-auto's 0.547 / 0.671 / 0.132, inside the rule's 0.05 window.
        LanguageDefault("en", "kokoro", "adapted", 0.696, 0.172, 0.606),
        LanguageDefault("es", "kokoro", "world", 0.671, 0.093, 0.554),
        LanguageDefault("fr", "kokoro", "none", 0.652, 0.470, 0.457),
        LanguageDefault("ja", "kokoro", "none", 0.658, 0.111, 0.442),
        LanguageDefault("zh", "espeak", "world-auto", 0.635, 0.365, 0.474),
        LanguageDefault("ko", "espeak", "world-auto", 0.645, 1.135, 0.565),
    )
}
"""Defaults from the run in the README ("Default pipeline per language")."""


def default_pipeline(lang: str) -> tuple[str, str]:
    """(tts, converter) that ``voxclone say`` uses for ``lang`` when none is named."""
    code = normalize_language(lang, tuple(LANGUAGE_NAMES))
    chosen = MEASURED.get(code)
    return (chosen.tts, chosen.converter) if chosen else EMBEDDED


def default_converter(lang: str, tts: str) -> str:
    """The converter ``voxclone say --tts TTS`` uses for ``lang`` when none is named: the
    measured default's where ``tts`` is its engine, else :data:`OTHER_ENGINE_CONVERTER`."""
    default_tts, converter = default_pipeline(lang)
    return converter if tts == default_tts else OTHER_ENGINE_CONVERTER


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
        by_lang.setdefault(lang or "en", []).append(
            {**row, "method": method, "error": _error(row)})
    chosen = {}
    for lang, group in sorted(by_lang.items()):
        errors = [r["error"] for r in group if r["error"] is not None]
        best_error = min(errors) if errors else None
        eligible = [r for r in group if best_error is None
                    or (r["error"] is not None and r["error"] <= best_error + WER_WINDOW + 1e-9)]
        best = max(eligible, key=lambda r: (_judged(r), r["method"]))
        tts, _, converter = best["method"].partition(":")
        chosen[lang] = LanguageDefault(lang, tts, converter or "none", best["similarity"],
                                       best["error"], best.get("similarity_dvec"))
    return chosen


def _error(row: dict[str, Any]) -> float | None:
    """The row's WER, or its CER where it has no WER (zh/ja/ko)."""
    return row["wer"] if row.get("wer") is not None else row.get("cer")


def _judged(row: dict[str, Any]) -> float:
    """The referee's similarity, or resemblyzer's for a row without it."""
    value = row.get("similarity_dvec")
    return float(value if value is not None else row["similarity"])


def defaults_table(chosen: dict[str, LanguageDefault]) -> str:
    """Markdown table of chosen defaults."""
    fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    lines = ["| language | default pipeline | d-vector (referee) | resemblyzer | WER/CER |",
             "|---|---|---|---|---|"]
    for lang, d in chosen.items():
        lines.append(f"| {lang} | {d.pipeline} | {fmt(d.similarity_dvec)} | {fmt(d.similarity)} | "
                     f"{fmt(d.wer)} |")
    return "\n".join(lines)

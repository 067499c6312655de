"""Error rates of a transcript against its reference, normalised per language.

WER (words) for alphabetic languages, CER (characters, spaces and punctuation removed) for
Chinese, Japanese and Korean. Both sides get the same normalisation: NFKC, lower case, unified
apostrophes, digits spelled out in the language (Whisper writes "1465" where read-speech
transcripts spell the number), English titles expanded (Mr -> mister), punctuation dropped, and
traditional Chinese characters mapped to simplified ones (OpenCC ``t2s``) before Chinese CER.
"""

from __future__ import annotations

import functools
import re
import unicodedata

CER_LANGUAGES = frozenset({"zh", "ja", "ko"})
_APOSTROPHES = re.compile(r"[\u2018\u2019\u02bc\u02b9\u0060\u00b4\u2032]")
_EN_TITLES = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "ms": "miss"}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th|º|ª|er|e|ème)?", re.IGNORECASE)
_ZH_DIGITS = "零一二三四五六七八九"
_ZH_UNITS = ((100_000_000, "亿"), (10_000, "万"), (1000, "千"), (100, "百"), (10, "十"))


def metric_name(lang: str) -> str:
    """``"cer"`` for zh/ja/ko, else ``"wer"``."""
    return "cer" if _base(lang) in CER_LANGUAGES else "wer"


def normalize_text(text: str, lang: str = "en") -> str:
    """The text as it is compared: see the module docstring. Words joined by single spaces
    (for CER languages the characters are later compared without spaces)."""
    code = _base(lang)
    text = _APOSTROPHES.sub("'", unicodedata.normalize("NFKC", text)).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = _NUMBER.sub(lambda m: f" {spell_number(m.group(), code)} ", text)
    text = "".join(" " if _is_punct(c) else c for c in text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    words = text.split()
    if code == "en":
        words = [_EN_TITLES.get(w, w) for w in words]
    if code == "zh":
        words = [_to_simplified(w) for w in words]
    return " ".join(words)


def spell_number(token: str, lang: str = "en") -> str:
    """Words for a number token in ``lang`` ("21" -> "twenty one", "3rd" -> "third", "1.5" ->
    "one point five"); tokens it cannot read stay as they are."""
    digits = re.match(r"[\d.,]+", token)
    if digits is None:
        return token
    number, suffix = digits.group().replace(",", "."), token[digits.end():]
    code = _base(lang)
    try:
        value: float | int = float(number) if "." in number.strip(".") else int(number.strip("."))
    except ValueError:
        return token
    if code == "zh":
        return _zh_number(int(value)) if isinstance(value, int) else token
    from num2words import num2words

    try:
        spelled = num2words(value, lang=code, to="ordinal" if suffix else "cardinal")
    except (NotImplementedError, OverflowError, KeyError, ValueError, TypeError):
        return token
    return spelled.replace("-", " ")


def _zh_number(n: int) -> str:
    """Chinese numerals for 0 <= n < 10^12 (1465 -> 一千四百六十五; 10 -> 十)."""
    if n < 10:
        return _ZH_DIGITS[n]
    out, zero = "", False
    for unit, name in _ZH_UNITS:
        if n >= unit:
            head, n = divmod(n, unit)
            out += ("零" if zero else "") + (_zh_number(head) if head >= 10 or unit >= 10_000
                                              else _ZH_DIGITS[head]) + name
            zero = 0 < n < unit // 10
        elif out and n:
            zero = True
    if n:
        out += ("零" if zero else "") + _ZH_DIGITS[n]
    return out[1:] if out.startswith("一十") else out


@functools.lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202 - opencc's converter type
    import opencc

    return opencc.OpenCC("t2s")


def _to_simplified(text: str) -> str:
    return _t2s().convert(text)


def _is_punct(char: str) -> bool:
    return char != "'" and unicodedata.category(char)[0] in "PS"


def _base(lang: str) -> str:
    return (lang or "en").split("-")[0].split("_")[0].lower()


def error_rate(reference: str, hypothesis: str, lang: str = "en") -> float:
    """WER (or CER for zh/ja/ko) of ``hypothesis`` against ``reference`` after
    :func:`normalize_text`: (substitutions + deletions + insertions) / reference units, may exceed
    1. An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise."""
    import jiwer

    ref, hyp = normalize_text(reference, lang), normalize_text(hypothesis, lang)
    if metric_name(lang) == "cer":
        ref, hyp = ref.replace(" ", ""), hyp.replace(" ", "")
        if not ref:
            return 0.0 if not hyp else 1.0
        return float(jiwer.cer(ref, hyp)) if hyp else 1.0
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp)) if hyp else 1.0


def wer(reference: str, hypothesis: str) -> float:
    """English word error rate (see :func:`error_rate`)."""
    return error_rate(reference, hypothesis, "en")

"""Soprano's text normalisation: the lowercase ASCII the model was trained on.

Behaves as the official ``clean_text`` (tortoise-derived): em dashes, ASCII folding (unidecode),
line ends as sentence ends, numbers / money / times / dates / phone numbers / arithmetic to
words (inflect), links, dotted initials and brackets, abbreviations, camelCase split, symbols
to words, then lowercase, unknown characters dropped, whitespace and punctuation collapsed and
letter runs capped at two. Quirks are kept on purpose, so that prompts equal the official ones.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

Rule = tuple["re.Pattern[str]", "str | Callable[[re.Match[str]], str]"]

_DOTTED = ("mrs misess", "ms miss", "mr mister", "dr doctor", "st saint", "co company",
           "jr junior", "maj major", "gen general", "drs doctors", "rev reverend",
           "lt lieutenant", "hon honorable", "sgt sergeant", "capt captain", "esq esquire",
           "ltd limited", "col colonel", "ft fort")
_CASED = [("Hz", "hertz"), ("kHz", "kilohertz"), ("KBs", "kilobytes"), ("KB", "kilobyte"),
          ("MBs", "megabytes"), ("MB", "megabyte"), ("GBs", "gigabytes"), ("GB", "gigabyte"),
          ("TBs", "terabytes"), ("TB", "terabyte"), ("APIs", "a p i's"), ("API", "a p i"),
          ("CLIs", "c l i's"), ("CLI", "c l i"), ("CPUs", "c p u's"), ("CPU", "c p u"),
          ("GPUs", "g p u's"), ("GPU", "g p u"), ("Ave", "avenue"), ("etc", "et cetera"),
          ("Mon", "monday"), ("Tues", "tuesday"), ("Wed", "wednesday"), ("Thurs", "thursday"),
          ("Fri", "friday"), ("Sat", "saturday"), ("Jan", "january"), ("Feb", "february"),
          ("Mar", "march"), ("Apr", "april"), ("Aug", "august"), ("Sept", "september"),
          ("Oct", "october"), ("Nov", "november"), ("Dec", "december"), ("and/or", "and or")]
_ABBREVIATIONS: list[Rule] = (
    [(re.compile(rf"\b{a}\.", re.IGNORECASE), b) for a, b in (p.split() for p in _DOTTED)]
    + [(re.compile(rf"\b{a}\b"), b) for a, b in _CASED])
_SYMBOLS: list[Rule] = [(re.compile(a), b) for a, b in [
    ("@", " at "), ("&", " and "), ("%", " percent "), (":", "."), (";", ","),
    (r"\+", " plus "), (r"\\", " backslash "), ("~", " about "), ("(^| )<3", " heart "),
    ("<=", " less than or equal to "), (">=", " greater than or equal to "),
    ("<", " less than "), (">", " greater than "), ("=", " equals "), ("/", " slash "),
    ("_", " "), (r"\*", " ")]]
_SCALE = {"K": "thousand", "M": "million", "B": "billion", "T": "trillion"}


@lru_cache(maxsize=1)
def _inflect() -> object:
    import inflect

    return inflect.engine()


def _words(number: int | str, **kw: object) -> str:
    return _inflect().number_to_words(number, **kw)  # type: ignore[attr-defined]


def _oh(part: str, drop_zero: bool) -> str:
    """A zero-led minutes/seconds field as spoken: "05" → "oh 5" (``drop_zero``) or "oh 05"."""
    return f"oh {part[1:] if drop_zero else part}" if part.startswith("0") else part


def _time(m: re.Match[str]) -> str:
    parts = m.group(1).split(":")
    if len(parts) == 2:
        hours, minutes = parts
        if minutes == "00":
            return "0" if int(hours) == 0 else f"{hours} minutes" if int(hours) > 12 \
                else f"{hours} o'clock"
        return f"{hours} {_oh(minutes, True)}"
    hours, minutes, seconds = parts
    if int(hours) != 0:
        # The official code formats plain minutes as a Python set literal: "{'15'}".
        mins = "oh oh" if minutes == "00" else _oh(minutes, False) if minutes.startswith("0") \
            else str({minutes})
        return f"{hours} {mins} {'' if seconds == '00' else _oh(seconds, False)}"
    if minutes != "00":
        return f"{minutes} {'oh oh' if seconds == '00' else _oh(seconds, False)}"
    return seconds


def _dollars(m: re.Match[str]) -> str:
    parts = m.group(1).split(".")
    if len(parts) > 2:
        return m.group(1) + " dollars"
    dollars = int(parts[0]) if parts[0] else 0
    cents = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    units = [f"{n} {unit if n == 1 else unit + 's'}"
             for n, unit in ((dollars, "dollar"), (cents, "cent")) if n]
    return ", ".join(units) or "zero dollars"


def _phone(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(1))
    return ", ".join(" ".join(digits[a:b]) for a, b in ((0, 3), (3, 6), (6, 10)))


def _decimal(m: re.Match[str]) -> str:
    whole, *fractions = m.group(1).split(".")
    return whole + " point " + " point ".join(" ".join(f) for f in fractions)


def _fraction(m: re.Match[str]) -> str:
    parts = m.group(1).split("/")
    return (" over " if len(parts) == 2 else " slash ").join(parts)


def _number(m: re.Match[str]) -> str:
    num = int(m.group(0))
    if not 1000 < num < 3000:
        return _words(num, andword="")
    if num == 2000:
        return "two thousand"
    if 2000 < num < 2010:
        return "two thousand " + _words(num % 100)
    if num % 100 == 0:
        return _words(num // 100) + " hundred"
    return _words(num, andword="", zero="oh", group=2).replace(", ", " ")


def _split_pair(op: str, word: str) -> Callable[[re.Match[str]], str]:
    return lambda m: f" {word} ".join(m.group(1).split(op))


_NUMBERS: list[Rule] = [
    (re.compile(r"#\d"), lambda m: f"number {m.group(0)[1]}"),
    (re.compile(r"\b\d+(K|M|B|T)\b", re.IGNORECASE),
     lambda m: f"{m.group(0)[:-1]} {_SCALE[m.group(0)[-1].upper()]}"),
    (re.compile(r"(\d[\d\,]+\d)"), lambda m: m.group(1).replace(",", "")),
    (re.compile(r"(^|[^/])(\d\d?[/-]\d\d?[/-]\d\d(?:\d\d)?)($|[^/])"),
     lambda m: m.group(1) + " dash ".join(re.split("[./-]", m.group(2))) + m.group(3)),
    (re.compile(r"(\(?\d{3}\)?[-.\s]\d{3}[-.\s]?\d{4})"), _phone),
    (re.compile(r"(\d\d?:\d\d(?::\d\d)?)"), _time),
    (re.compile(r"£([\d\,]*\d+)"), r"\1 pounds"),
    (re.compile(r"\$([\d\.\,]*\d+)"), _dollars),
    (re.compile(r"(\d+(?:\.\d+)+)"), _decimal),
    (re.compile(r"(\d\s?\*\s?\d)"), _split_pair("*", "times")),
    (re.compile(r"(\d\s?/\s?\d)"), _split_pair("/", "over")),
    (re.compile(r"(\d\s?\+\s?\d)"), _split_pair("+", "plus")),
    (re.compile(r"(\d?\s?-\s?\d)"), _split_pair("-", "minus")),
    (re.compile(r"(\d+(?:/\d+)+)"), _fraction),
    (re.compile(r"\d+(st|nd|rd|th)"), lambda m: _words(m.group(0), andword="")),
]
_LETTER_DIGIT = re.compile(r"(\d[a-z]|[a-z]\d)", re.IGNORECASE)


def _brackets(m: re.Match[str]) -> str:
    text = re.sub(r"[\(\[\{]", ", ", m.group(0))
    text = re.sub(r"[\)\]\}][^$.!?,]", ", ", text)
    return re.sub(r"[\)\]\}]", "", text)


def _mixed_case(m: re.Match[str]) -> str:
    word = m.group(0)
    caps = re.findall("[A-Z][a-z]*", word)
    if len(caps) == 1 or len(caps) == len(word):
        return word
    if len(caps) == len(word) - 1 and word[-1] == "s":
        return f"{word[:-1]}'s"
    return " ".join(caps)


_SPECIAL: list[Rule] = [
    (re.compile(r"(https?://)"), "h t t p s colon slash slash "),
    (re.compile(r"(. - .)"), lambda m: f"{m.group(0)[0]}, {m.group(0)[4]}"),
    (re.compile(r"([A-Z]\.[A-Z])", re.IGNORECASE), lambda m: f"{m.group(0)[0]} dot {m.group(0)[2]}"),
    (re.compile(r"[\(\[\{].*[\)\]\}](.|$)"), _brackets),
]
_TIDY: list[Rule] = [(re.compile(a), b) for a, b in [
    (r"[^A-Za-z !\$%&'\*\+,-./0123456789<>\?_]", ""), (r"[<>/_+]", ""),
    (r"\s+", " "), (r" [.\?!,]", lambda m: m.group(0)[1])]]
_PUNCTUATION: list[Rule] = [(re.compile(a), b) for a, b in [
    (r"\.\.\.+", "[ELLIPSIS]"), (r",+", ","), (r"[\.,]*\.[\.,]*", "."),
    (r"[\.,!]*![\.,!]*", "!"), (r"[\.,!\?]*\?[\.,!\?]*", "?"), (r"\[ELLIPSIS\]", "..."),
    (r"(\w)\1{2,}", lambda m: m.group(0)[:2])]]


def _apply(rules: list[Rule], text: str) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def _line_ends(text: str) -> str:
    """Each non-empty line ends with . ! or ?; lines joined by spaces."""
    lines = [line.strip() for line in text.split("\n")]
    return " ".join(line if not line or line[-1] in ".!?" else line + "." for line in lines)


def normalize_numbers(text: str) -> str:
    """Digits, money, times, dates and arithmetic to words."""
    text = _apply(_NUMBERS, text)
    for _ in range(2):  # overlapping letter/digit pairs need a second pass
        text = _LETTER_DIGIT.sub(lambda m: f"{m.group(1)[0]} {m.group(1)[1]}", text)
    return re.sub(r"\d+", _number, text)


def clean_text(text: str) -> str:
    """Raw text → the lowercase ASCII the Soprano LM reads (a-z 0-9 space !$%&'*,-.?)."""
    from unidecode import unidecode

    text = unidecode(text.replace("—", " - "))
    text = normalize_numbers(_line_ends(text))
    text = _apply(_ABBREVIATIONS, _apply(_SPECIAL, text))
    text = re.sub(r"\b([A-Z][a-z]*)+\b", _mixed_case, text)
    text = _apply(_TIDY, _apply(_SYMBOLS, text).lower()).strip()
    return _apply(_PUNCTUATION, text)

"""espeak-ng phonemisation shared by the neural engines (Piper, Kokoro).

espeak-ng 1.51's command line prints one line of IPA per clause but not the punctuation that ended
it, which both Piper and Kokoro feed to their models. So the text is first cut into clauses here,
with espeak-ng's own rules (a clause ends at ``. ? ! , : ;``, an ellipsis or a dash followed by a
space, at CJK punctuation, and at a blank line; a full stop followed by a lower-case word on the
same line does not end one), and all clauses go to one espeak-ng call, one paragraph each. When
espeak-ng still cuts differently (very long clauses), each clause is phonemised on its own.
User text only ever reaches espeak-ng through stdin.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Sequence

from voxclone.errors import EngineUnavailable, TextError

# Terminator as Piper's espeak bridge reports it, keyed by the last punctuation character.
_PIPER_TERMINATOR = {".": ".", "?": "?", "!": "!", ",": ",", ":": ":", ";": ";", "…": ";",
                     "—": ";", "–": ";", "。": ".", "？": "?", "！": "!", "，": ",", "、": ",",
                     "：": ":", "；": ";", "।": "."}
_SENTENCE_END = {".", "?", "!"}
# Written punctuation as Kokoro's vocabulary spells it.
_KOKORO_PUNCT = {"。": ".", "？": "?", "！": "!", "，": ",", "、": ",", "：": ":", "；": ";",
                 "।": ".", "–": "—"}
_PUNCT = re.compile(r"(?P<p>[.?!,:;…—–।]+)(?P<close>[\"'”’»)\]]*)(?=\s|$)"
                    r"|(?P<cjk>[。？！，、：；…]+)")
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_LANG_FLAG = re.compile(r"\([^)]*\)")
_ALNUM = re.compile(r"\w")


@dataclass(frozen=True)
class Clause:
    """One clause as espeak-ng reads it.

    text: the clause as written, its punctuation included.
    punct: the punctuation that ends it ("" at a blank line or at the end of the text).
    sentence_end: True when a sentence ends with this clause.
    """

    text: str
    punct: str
    sentence_end: bool

    @property
    def piper_terminator(self) -> str:
        """The terminator Piper appends: one of ``. ? ! , : ;`` or ""."""
        return piper_terminator(self.punct)

    @property
    def kokoro_punct(self) -> str:
        """The punctuation as Kokoro's vocabulary writes it (``...`` → ``…``, CJK → ASCII)."""
        punct = re.sub(r"\.{3,}", "…", self.punct)
        return "".join(_KOKORO_PUNCT.get(ch, ch) for ch in punct)


def piper_terminator(punct: str) -> str:
    """Piper's terminator for a clause ending in ``punct``: one of ``. ? ! , : ;`` or ""."""
    if re.fullmatch(r"\.{3,}", punct):
        return ";"
    return _PIPER_TERMINATOR.get(punct[-1:], "")


def espeak_binary() -> str:
    """Path of the espeak-ng program; EngineUnavailable if it is not installed."""
    binary = shutil.which("espeak-ng")
    if not binary:
        raise EngineUnavailable("espeak-ng is not installed: run `make setup` or "
                                "`apt-get install -y espeak-ng`.")
    return binary


def split_clauses(text: str) -> list[Clause]:
    """Cut ``text`` into clauses where espeak-ng does (see the module docstring)."""
    clauses: list[Clause] = []
    for paragraph in _PARAGRAPH.split(text.strip()):
        start = 0
        for m in _PUNCT.finditer(paragraph):
            piece = paragraph[start:m.end()]
            if not _ends_clause(paragraph, m, piece):
                continue
            punct = m.group("p") or m.group("cjk")
            sentence_end = piper_terminator(punct) in _SENTENCE_END
            clauses.append(Clause(_flat(piece), punct, sentence_end))
            start = m.end()
        rest = _flat(paragraph[start:])
        if _ALNUM.search(rest):
            clauses.append(Clause(rest, "", True))
        elif clauses:
            clauses[-1] = Clause(clauses[-1].text, clauses[-1].punct, True)
    return clauses


def _ends_clause(paragraph: str, m: re.Match[str], piece: str) -> bool:
    if not _ALNUM.search(piece[: len(piece) - len(m.group(0))]):
        return False  # no word yet: espeak-ng reads the punctuation as part of the next clause
    punct = m.group("p")
    if not punct or punct[-1] != "." or re.fullmatch(r"\.{3,}", punct) or m.group("close"):
        return True
    gap = re.match(r"\s*", paragraph[m.end():]).group(0)
    following = paragraph[m.end() + len(gap): m.end() + len(gap) + 1]
    return "\n" in gap or not following.islower()  # "e.g. this": an abbreviation, not an end


def _flat(text: str) -> str:
    return " ".join(text.split())


def espeak_ipa(texts: Sequence[str], voice: str, tie: str | None = None) -> list[str]:
    """IPA of each text, one string per text (espeak-ng's language-switch flags removed).

    tie: character that joins the letters of one multi-letter phoneme (``^`` gives ``a^ɪ``).
    """
    if not texts:
        return []
    lines = _run_espeak("\n\n".join(texts), voice, tie)
    if len(lines) != len(texts):  # espeak-ng cut a clause further: phonemise one by one
        lines = [" ".join(_run_espeak(text, voice, tie)) for text in texts]
    return [_LANG_FLAG.sub("", line).strip() for line in lines]


def _run_espeak(text: str, voice: str, tie: str | None) -> list[str]:
    args = [espeak_binary(), "-q", "--ipa", "-v", voice, "--stdin"]
    if tie:
        args.insert(3, f"--tie={tie}")
    proc = subprocess.run(args, input=text, capture_output=True, text=True, encoding="utf-8",
                          check=False, timeout=300)
    if proc.returncode != 0:
        raise EngineUnavailable(f"espeak-ng failed for voice '{voice}' ({proc.stderr.strip()}).")
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]


def phonemize_clauses(text: str, voice: str, tie: str | None = None) -> list[tuple[Clause, str]]:
    """Each clause of ``text`` with its IPA, from espeak-ng voice ``voice``; TextError if empty."""
    clauses = split_clauses(text)
    if not clauses:
        raise TextError("Text holds nothing to say: give some words.")
    return list(zip(clauses, espeak_ipa([c.text for c in clauses], voice, tie)))


# espeak-ng IPA (phonemes tied with "^") → Kokoro symbols, as misaki (hexgrad/misaki, espeak.py)
# maps them: EspeakFallback for American English, EspeakG2P for the other languages.
_EN_E2M = sorted({
    "ʔˌn\u0329": "tn", "ʔn\u0329": "tn", "ʔn": "tn", "ʔ": "t", "a^ɪ": "I", "a^ʊ": "W", "d^ʒ": "ʤ",
    "e^ɪ": "A", "e": "A", "t^ʃ": "ʧ", "ɔ^ɪ": "Y", "ə^l": "ᵊl", "ʲo": "jo", "ʲə": "jə", "ʲ": "",
    "ɚ": "əɹ", "r": "ɹ", "x": "k", "ç": "k", "ɐ": "ə", "ɬ": "l", "\u0303": "",
}.items(), key=lambda kv: -len(kv[0]))
_EN_AFTER = (("o^ʊ", "O"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", ""), ("o", "ɔ"))
_OTHER_E2M = (("a^ɪ", "I"), ("a^ʊ", "W"), ("d^z", "ʣ"), ("d^ʒ", "ʤ"), ("e^ɪ", "A"), ("o^ʊ", "O"),
              ("ə^ʊ", "Q"), ("s^s", "S"), ("t^s", "ʦ"), ("t^ʃ", "ʧ"), ("ɔ^ɪ", "Y"))
# espeak-ng's Mandarin writes retroflexes with a dot ("s.") and tones as digits (or "ɜ" for 35).
_ZH_E2M = (("t^s.^h", "ʈʂʰ"), ("t^s.", "ʈʂ"), ("s.", "ʂ"), ("ʐ", "ɻ"), ("z.", "ɻ"), ("t^ɕ", "ʨ"),
           ("^h", "ʰ"))
_ZH_TONES = re.compile(r"[0-9ɜ]")


def kokoro_symbols(ipa: str, lang: str) -> str:
    """Kokoro symbols for one clause's espeak-ng IPA (phonemes tied with ``^``), as misaki maps.

    Symbols outside Kokoro's vocabulary are left for the tokenizer to drop. Mandarin tones are
    dropped (espeak-ng's IPA merges tones 1 and 4), so Mandarin comes out toneless.
    """
    if lang == "en":
        for old, new in _EN_E2M:
            ipa = ipa.replace(old, new)
        ipa = re.sub("(\\S)\u0329", "ᵊ\\1", ipa).replace("\u0329", "")
        for old, new in _EN_AFTER:
            ipa = ipa.replace(old, new)
        return ipa.replace("^", "")
    if lang == "zh":
        for old, new in _ZH_E2M:
            ipa = ipa.replace(old, new)
        ipa = _ZH_TONES.sub("", ipa).replace(".", "")
    for old, new in _OTHER_E2M:
        ipa = ipa.replace(old, new)
    return ipa.replace("^", "").replace("-", "")

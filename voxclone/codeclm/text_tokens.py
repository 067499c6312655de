"""Text → integer ids: characters, or espeak-ng phonemes (IPA, one symbol per phoneme)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Literal

from voxclone.errors import EngineUnavailable, TextError

PAD, UNK = "<pad>", "<unk>"
TextKind = Literal["char", "phoneme"]


@dataclass
class TextTokenizer:
    """kind: ``char`` (lower-cased NFKC characters) or ``phoneme`` (espeak-ng IPA phonemes of
    ``lang``); symbols: the vocabulary (id = index; 0 padding, 1 unknown), built by :meth:`fit`."""

    kind: TextKind = "char"
    lang: str = "en"
    symbols: list[str] = field(default_factory=lambda: [PAD, UNK])

    def units(self, text: str) -> list[str]:
        """The symbols of ``text`` before lookup."""
        if self.kind == "phoneme":
            return [p for word in espeak_phonemes(text, self.lang).split(" ") if word
                    for p in word.split("_") if p] or []
        return list(" ".join(unicodedata.normalize("NFKC", text).lower().split()))

    def fit(self, texts: Iterable[str]) -> "TextTokenizer":
        """Add every symbol seen in ``texts`` to the vocabulary (sorted, deterministic)."""
        seen = {u for t in texts for u in self.units(t)}
        known = set(self.symbols)
        self.symbols = self.symbols + sorted(seen - known)
        return self

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``; unknown symbols map to 1."""
        index = {s: i for i, s in enumerate(self.symbols)}
        ids = [index.get(u, 1) for u in self.units(text)]
        if not ids:
            raise TextError(f"Text '{text[:40]}' has nothing to speak: give words.")
        return ids

    def to_dict(self) -> dict:
        return {"kind": self.kind, "lang": self.lang, "symbols": list(self.symbols)}

    @classmethod
    def from_dict(cls, d: dict) -> "TextTokenizer":
        return cls(d["kind"], d.get("lang", "en"), list(d["symbols"]))


def espeak_phonemes(text: str, lang: str) -> str:
    """espeak-ng IPA of ``text``, phonemes joined by ``_``, words by spaces."""
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise EngineUnavailable("Phoneme text needs espeak-ng: `apt-get install espeak-ng`, or use "
                                "text kind 'char'.")
    out = subprocess.run([exe, "-q", "--ipa=1", "-v", lang, text], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise EngineUnavailable(f"espeak-ng failed for language '{lang}': {out.stderr.strip()}")
    return " ".join(out.stdout.split())

"""Language codes voxclone understands."""

from __future__ import annotations

from voxclone.errors import UnsupportedLanguage

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "es": "Spanish", "fr": "French", "zh": "Mandarin Chinese",
    "ja": "Japanese", "ko": "Korean",
}

_ALIASES = {"cmn": "zh", "zh-cn": "zh", "en-us": "en", "en-gb": "en", "jp": "ja", "kr": "ko"}


def normalize_language(lang: str, supported: tuple[str, ...] | list[str]) -> str:
    """Canonical code of ``lang`` if it is in ``supported``, else UnsupportedLanguage."""
    code = _ALIASES.get(lang.strip().lower(), lang.strip().lower())
    if code not in supported:
        listed = ", ".join(f"{c} ({LANGUAGE_NAMES.get(c, c)})" for c in supported)
        raise UnsupportedLanguage(f"Language '{lang}' is not supported. Supported: {listed}.")
    return code

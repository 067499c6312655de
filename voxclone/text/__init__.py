"""Text checks, splitting and language codes."""

from voxclone.text.languages import LANGUAGE_NAMES, normalize_language
from voxclone.text.split import MAX_TEXT_CHARS, clean_text, split_text

__all__ = ["LANGUAGE_NAMES", "MAX_TEXT_CHARS", "clean_text", "normalize_language", "split_text"]

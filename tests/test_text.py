"""voxclone.text: cleaning, splitting into pieces and language codes."""

from __future__ import annotations

import pytest

from voxclone.errors import TextError, UnsupportedLanguage
from voxclone.text import LANGUAGE_NAMES, MAX_TEXT_CHARS, clean_text, normalize_language, split_text
from voxclone.text.split import MAX_PIECE_CHARS


def test_split_on_sentences():
    text = "Hello there. How are you? I am fine! Thanks; bye."
    assert split_text(text) == ["Hello there.", "How are you?", "I am fine!", "Thanks;", "bye."]


def test_newlines_do_not_split_without_a_delimiter():
    assert split_text("one line\nand the same sentence.") == ["one line and the same sentence."]


def test_split_on_pipe():
    assert split_text("First part | second, part|| third.", "|") == ["First part", "second, part",
                                                                    "third."]


@pytest.mark.parametrize("delimiter", ["\n", "\\n"])
def test_split_on_newline(delimiter):
    # a real newline, or the two characters backslash-n as typed on a command line
    text = "Line one. Still one\nLine two\n\n  \nLine three"
    assert split_text(text, delimiter) == ["Line one. Still one", "Line two", "Line three"]


def test_split_on_a_non_ascii_delimiter():
    assert split_text("一｜二｜三", "｜") == ["一", "二", "三"]
    assert split_text("première·deuxième", "·") == ["première", "deuxième"]


def test_delimiter_not_in_text_gives_one_piece():
    assert split_text("No pipes here. Two sentences.", "|") == ["No pipes here. Two sentences."]


@pytest.mark.parametrize("text, delimiter", [("| | |", "|"), ("...", None), ("- | ?!", "|")])
def test_nothing_to_say_is_an_error(text, delimiter):
    with pytest.raises(TextError, match="nothing to say"):
        split_text(text, delimiter)


def test_pieces_of_only_punctuation_are_dropped():
    assert split_text("Hello|-|World", "|") == ["Hello", "World"]
    assert split_text("Wait. ... Go!") == ["Wait.", "Go!"]
    assert split_text("数字|42|。", "|") == ["数字", "42"]


def test_long_text_is_cut_under_the_limit_in_order():
    words = [f"word{i}" for i in range(400)]
    text = " ".join(words) + "."
    pieces = split_text(text, max_chars=100)
    assert len(pieces) > 1 and all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces) == text  # nothing lost, nothing reordered


def test_long_text_prefers_commas():
    clause = "a clause of several words"
    text = ", ".join([clause] * 30) + "."
    pieces = split_text(text, max_chars=120)
    assert all(len(p) <= 120 for p in pieces)
    assert all(p.endswith((",", ".")) for p in pieces)


def test_overlong_word_keeps_its_place():
    text = "start " + "x" * 250 + " end"
    pieces = split_text(text, max_chars=100)
    assert all(len(p) <= 100 for p in pieces)
    assert pieces[0] == "start" and pieces[-1].endswith("end")
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_cjk_text_without_spaces():
    text = "你好。今天天气很好！我们走吧？"
    assert split_text(text) == ["你好。", "今天天气很好！", "我们走吧？"]
    long = "今日は良い天気ですね" * 100  # 1000 characters, no spaces, no sentence end
    pieces = split_text(long)
    assert all(len(p) <= MAX_PIECE_CHARS for p in pieces) and "".join(pieces) == long


def test_clean_text():
    assert clean_text("  a\u0000b \t c  ") == "a b c"
    assert clean_text("e\u0301") == "\u00e9"  # NFC
    assert clean_text("x" * MAX_TEXT_CHARS) == "x" * MAX_TEXT_CHARS


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u0000\u0001"])
def test_empty_text(text):
    with pytest.raises(TextError, match="empty"):
        split_text(text)


def test_text_over_the_limit():
    with pytest.raises(TextError, match=f"{MAX_TEXT_CHARS + 1} characters.*{MAX_TEXT_CHARS}"):
        split_text("x" * (MAX_TEXT_CHARS + 1))


def test_non_string_text():
    with pytest.raises(TextError):
        clean_text(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("given, code", [("en", "en"), ("EN", "en"), (" en-US ", "en"),
                                         ("cmn", "zh"), ("zh-CN", "zh"), ("jp", "ja"), ("ko", "ko")])
def test_language_aliases(given, code):
    assert normalize_language(given, tuple(LANGUAGE_NAMES)) == code


def test_unknown_language_lists_the_supported_ones():
    supported = ("en", "es", "zh")
    with pytest.raises(UnsupportedLanguage) as err:
        normalize_language("de", supported)
    message = str(err.value)
    assert "'de'" in message
    for code in supported:
        assert f"{code} ({LANGUAGE_NAMES[code]})" in message


def test_language_known_but_not_offered_by_the_engine():
    with pytest.raises(UnsupportedLanguage, match="en \\(English\\)"):
        normalize_language("ja", ("en",))


def test_split_on_a_tab_typed_as_backslash_t() -> None:
    assert split_text("One two\tthree  four\tfive", "\\t") == ["One two", "three four", "five"]
    assert split_text("One.\tTwo\nthree.") == ["One.", "Two three."]

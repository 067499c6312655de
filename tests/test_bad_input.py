"""Bad input through the CLI: exit code 2, one `error:` line, no traceback, nothing stored lost."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from conftest import VOICE, tone
from voxclone.audio import save
from voxclone.cli.main import app
from voxclone.text import MAX_TEXT_CHARS


@pytest.fixture(scope="module")
def files(tmp_path_factory, espeak, arctic_path) -> dict[str, Path]:
    """Input files, good and bad, by kind."""
    root = tmp_path_factory.mktemp("inputs")
    paths = {k: root / f"{k}.wav" for k in ("corrupt", "empty", "silence", "short", "tiny", "speech")}
    paths["missing"] = root / "missing.wav"
    paths["corrupt"].write_bytes(np.random.default_rng(0).bytes(4096))
    paths["empty"].write_bytes(b"")
    sf.write(paths["silence"], np.zeros(5 * 16000, np.float32), 16000)
    save(espeak.synthesize("Hi there.", "en"), paths["short"])  # under a second of speech
    save(tone(150.0, 0.05), paths["tiny"])
    save(espeak.synthesize("The quick brown fox jumps over the lazy dog.", "en"), paths["speech"])
    paths["arctic"] = arctic_path
    return paths


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def stored(home: Path) -> tuple[str, dict[str, str]]:
    """What `voices list --json` prints, and every stored clip file with its SHA-256."""
    listing = run("voices", "list", "--json")
    assert listing.exit_code == 0
    clips = home / "voices" / "clips"
    digests = {str(p.relative_to(clips)): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted(clips.rglob("*")) if p.is_file()}
    return listing.stdout, digests


V = ("--voice", VOICE)

CASES = {
    # voices add: bad audio
    "add-missing": (("voices", "add", "x", "{missing}"), "not found"),
    "add-corrupt": (("voices", "add", "x", "{corrupt}"), "Cannot decode"),
    "add-empty": (("voices", "add", "x", "{empty}"), "empty"),
    "add-silence": (("voices", "add", "x", "{silence}"), "No speech found"),
    "add-short": (("voices", "add", "x", "{short}"), r"only \d\.\d s of speech; at least 3 s"),
    "add-one-bad-of-two": (("voices", "add", "x", "{arctic}", "{corrupt}"), "Cannot decode"),
    "add-existing": (("voices", "add", VOICE, "{arctic}"), "already exists"),
    "add-existing-other-case": (("voices", "add", VOICE.upper(), "{arctic}"), "already exists"),
    # voices: bad names
    "name-slash": (("voices", "add", "a/b", "{arctic}"), "Invalid voice name"),
    "name-dotdot": (("voices", "add", "..", "{arctic}"), "Invalid voice name"),
    "name-up": (("voices", "add", f"../{VOICE}", "{arctic}"), "Invalid voice name"),
    "name-backslash": (("voices", "add", "a\\b", "{arctic}"), "Invalid voice name"),
    "name-absolute": (("voices", "add", "/tmp/x", "{arctic}"), "Invalid voice name"),
    "remove-up": (("voices", "remove", f"../{VOICE}"), "Invalid voice name"),
    "remove-dotdot": (("voices", "remove", ".."), "Invalid voice name"),
    "remove-unknown": (("voices", "remove", "nobody"), "No voice named 'nobody'"),
    "show-unknown": (("voices", "show", "nobody"), "No voice named 'nobody'"),
    "show-backslash": (("voices", "show", "..\\x"), "Invalid voice name"),
    "export-unknown": (("voices", "export", "nobody", "-o", "{out}.zip"), "No voice named"),
    "import-corrupt": (("voices", "import", "{corrupt}"), "Cannot open voice archive"),
    "import-missing": (("voices", "import", "{missing}"), "Cannot open voice archive"),
    # say: text and language
    "say-language": (("say", "Hallo", *V, "--lang", "de", "-o", "{out}"),
                     r"'de' is not supported\. Supported: en \(English\), es"),
    "say-empty": (("say", "", *V, "-o", "{out}"), "Text is empty"),
    "say-blank": (("say", "  \n ", *V, "-o", "{out}"), "Text is empty"),
    "say-punctuation": (("say", "... | -", *V, "--split", "|", "-o", "{out}"), "nothing to say"),
    "say-too-long": (("say", "x" * (MAX_TEXT_CHARS + 1), *V, "-o", "{out}"),
                     f"over the limit of {MAX_TEXT_CHARS}"),
    "say-text-file-missing": (("say", "@{missing}.txt", *V, "-o", "{out}"), "Text file not found"),
    # say: voices
    "say-unknown-voice": (("say", "Hello", "--voice", "nobody", "-o", "{out}"), "No voice named"),
    "say-bad-voice-name": (("say", "Hello", "--voice", "../x", "-o", "{out}"), "Invalid voice name"),
    "say-both": (("say", "Hello", *V, "--ref", "{arctic}", "-o", "{out}"), "not both"),
    "say-neither": (("say", "Hello", "-o", "{out}"), "Give either --voice"),
    "say-ref-missing": (("say", "Hello", "--ref", "{missing}", "-o", "{out}"), "not found"),
    "say-ref-corrupt": (("say", "Hello", "--ref", "{corrupt}", "-o", "{out}"), "Cannot decode"),
    "say-ref-empty": (("say", "Hello", "--ref", "{empty}", "-o", "{out}"), "empty"),
    "say-ref-silence": (("say", "Hello", "--ref", "{silence}", "-o", "{out}"), "No speech found"),
    "say-ref-short": (("say", "Hello", "--ref", "{short}", "-o", "{out}"), "at least 3 s"),
    "say-base-voice": (("say", "Hello", *V, "--base-voice", "nope", "-o", "{out}"),
                       "Unknown base voice 'nope'"),
    "say-tts": (("say", "Hello", *V, "--tts", "nope", "-o", "{out}"), "Unknown TTS engine"),
    "say-converter": (("say", "Hello", *V, "--engine", "nope", "-o", "{out}"), "Unknown converter"),
    "say-format": (("say", "Hello", *V, "-o", "{out}.xyz"), "Cannot write '.xyz'"),
    # say: settings out of range
    "say-speed-high": (("say", "Hello", *V, "--speed", "3", "-o", "{out}"), "speed=3.0 is out of range"),
    "say-speed-low": (("say", "Hello", *V, "--speed", "0.1", "-o", "{out}"), "speed=0.1 is out of range"),
    "say-pitch": (("say", "Hello", *V, "--pitch", "20", "-o", "{out}"), "pitch=20.0 is out of range"),
    "say-energy": (("say", "Hello", *V, "--energy", "0", "-o", "{out}"), "energy=0.0 is out of range"),
    "say-strength": (("say", "Hello", *V, "--strength", "1.5", "-o", "{out}"),
                     "strength=1.5 is out of range"),
    # convert
    "convert-missing": (("convert", "{missing}", *V, "-o", "{out}"), "not found"),
    "convert-corrupt": (("convert", "{corrupt}", *V, "-o", "{out}"), "Cannot decode"),
    "convert-empty": (("convert", "{empty}", *V, "-o", "{out}"), "empty"),
    "convert-too-short": (("convert", "{tiny}", *V, "-o", "{out}"), "too short"),
    "convert-unknown-voice": (("convert", "{speech}", "--voice", "nobody", "-o", "{out}"),
                              "No voice named"),
    "convert-both": (("convert", "{speech}", *V, "--ref", "{arctic}", "-o", "{out}"), "not both"),
    "convert-neither": (("convert", "{speech}", "-o", "{out}"), "Give either --voice"),
    "convert-ref-short": (("convert", "{speech}", "--ref", "{short}", "-o", "{out}"), "at least 3 s"),
    "convert-strength": (("convert", "{speech}", *V, "--strength", "2", "-o", "{out}"),
                         "strength=2.0 is out of range"),
    "convert-pitch-shift": (("convert", "{speech}", *V, "--pitch-shift", "30", "-o", "{out}"),
                            "pitch_shift=30.0 is out of range"),
    "convert-converter": (("convert", "{speech}", *V, "--engine", "none", "-o", "{out}"),
                          "needs a converter"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_clear_line(case, files, warm_home, tmp_path):
    template, expected = CASES[case]
    out = tmp_path / "out.wav"
    args = [a.format(out=out, **{k: str(v) for k, v in files.items()}) if "{" in a else a
            for a in template]
    before = stored(warm_home)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # ended by the CLI, not an uncaught error
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert re.search(expected, lines[0]), lines[0]
    assert result.stdout == ""
    assert stored(warm_home) == before  # nothing stored was lost or changed
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("out")]  # no output written
    assert not list((warm_home / "voices" / ".staging").iterdir())  # no leftovers


def test_a_failed_add_keeps_the_voice_usable(files, warm_home):
    assert run("voices", "add", VOICE, files["corrupt"], "--replace").exit_code == 2
    result = run("voices", "show", VOICE)
    assert result.exit_code == 0 and '"embedding_dim": 256' in result.stdout



def test_output_paths_that_cannot_be_files_are_clear_errors(tmp_path, arctic_path) -> None:
    from typer.testing import CliRunner

    from voxclone.audio import Audio, save
    from voxclone.cli.main import app
    from voxclone.errors import AudioError

    folder = tmp_path / "some_folder"
    folder.mkdir()
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    runner = CliRunner()
    for out, says in ((f"{folder}/", "is a folder"), (str(folder), "is a folder"),
                      (str(blocker / "x.wav"), "is a file")):
        result = runner.invoke(app, ["say", "Hi.", "--ref", str(arctic_path), "--tts", "espeak",
                                     "--converter", "world", "-o", out])
        assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output
        result = runner.invoke(app, ["convert", str(arctic_path), "--ref", str(arctic_path), "-o", out])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    with pytest.raises(AudioError, match="is a folder"):
        save(Audio(np.zeros(10, np.float32), 16000), folder)
    with pytest.raises(AudioError, match="Cannot write"):
        save(Audio(np.zeros(10, np.float32), 16000), blocker / "x.wav")
    assert blocker.read_text() == "x" and not list(folder.iterdir())


def test_a_base_voice_not_installed_says_how_to_fetch_it(arctic_path) -> None:
    result = CliRunner().invoke(app, ["say", "Hi.", "--ref", str(arctic_path), "--tts", "piper",
                                      "--converter", "world", "--base-voice", "en_GB-alan-medium",
                                      "-o", "x.wav"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "voxclone models fetch piper:en_GB-alan-medium" in result.output

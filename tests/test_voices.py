"""Voice library, voice profiles and voice archives, on audio made here."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voxclone.audio import Audio, load, resample
from voxclone.audio.speaker import speaker_encoder
from voxclone.errors import (AudioError, InvalidVoiceName, ProfileVersionError,
                             ReferenceTooShort, SilentReference, VoiceArchiveError, VoiceExists,
                             VoiceNotFound)
from voxclone.tts import get_tts
from voxclone.voices import (VoiceLibrary, VoiceProfile, build_profile, check_reference,
                             validate_name)
from voxclone.voices import archive, profile as profile_mod, store

SENTENCES = {
    "fox": "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore.",
    "rain": "The rain in Spain stays mainly in the plain. How much wood would a woodchuck chuck?",
    "short": "The quick brown fox jumps.",
}


class CountingConverter:
    """A stand-in converter that counts how often it computes features."""

    name = "counting"

    def __init__(self, version: str = "1") -> None:
        self.version = version
        self.calls = 0

    def features(self, clips: list[Audio]) -> dict:
        self.calls += 1
        return {"n_clips": len(clips), "rms": [float(np.sqrt(np.mean(c.samples**2))) for c in clips]}

    def convert(self, audio: Audio, target: dict, settings=None, source=None) -> Audio:
        return audio


def _arctic() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pysptk
    return Path(pysptk.util.example_audio_file())


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory) -> dict[str, Path]:
    """Reference files in every supported shape: wav, stereo 44.1 kHz, 8 kHz, mp3, ogg, ..."""
    root = tmp_path_factory.mktemp("audio")
    tts = get_tts("espeak")
    fox, rain = (tts.synthesize(SENTENCES[k], "en") for k in ("fox", "rain"))
    files = {"fox": root / "fox.wav", "arctic": _arctic(), "short": root / "short.wav",
             "stereo": root / "stereo44k.wav", "narrow": root / "narrow8k.flac",
             "mp3": root / "rain.mp3", "ogg": root / "rain.ogg", "silence": root / "silence.wav"}
    sf.write(files["fox"], fox.samples, fox.sample_rate)
    short = tts.synthesize(SENTENCES["short"], "en")
    sf.write(files["short"], short.samples, short.sample_rate)
    wide = resample(rain, 44100).samples
    sf.write(files["stereo"], np.stack([wide, 0.5 * wide], axis=1), 44100)
    sf.write(files["narrow"], resample(fox, 8000).samples, 8000)
    sf.write(files["mp3"], rain.samples, rain.sample_rate, format="MP3")
    sf.write(files["ogg"], rain.samples, rain.sample_rate, format="OGG")
    sf.write(files["silence"], np.zeros(2 * 16000, np.float32), 16000)
    return files


@pytest.fixture(scope="module")
def encoder():
    """The shared speaker encoder, warmed up once for this module."""
    enc = speaker_encoder()
    enc.embed(load(_arctic()))
    return enc


@pytest.fixture
def library(tmp_path, monkeypatch) -> VoiceLibrary:
    monkeypatch.setenv("VOXCLONE_HOME", str(tmp_path / "home"))
    return VoiceLibrary()


def _state(lib: VoiceLibrary) -> dict:
    """What the library lists, plus what lies on disk under its clip folder."""
    files = sorted(str(p.relative_to(lib.clips_dir)) for p in lib.clips_dir.rglob("*"))
    return {"voices": [v.to_dict() for v in lib.list()], "files": files}


def test_add_list_info_clips_remove(library, audio_files):
    names = ["fox", "stereo", "narrow", "mp3", "ogg", "arctic"]
    info = library.add("Alice Smith", [audio_files[n] for n in names])
    assert library.root == Path(os.environ["VOXCLONE_HOME"]) / "voices"
    assert [c.original_name for c in info.clips] == [audio_files[n].name for n in names]
    assert [c.sample_rate for c in info.clips] == [22050, 44100, 8000, 22050, 22050, 16000]
    assert info.speech_seconds > 10 and info.created
    for clip in info.clips:
        path = library.clips_dir / "Alice Smith" / clip.filename
        assert clip.filename == f"{clip.sha256[:16]}.flac"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == clip.sha256
        assert sf.info(str(path)).format == "FLAC" and sf.info(str(path)).channels == 1
    clips = library.clips("alice smith")
    assert [round(c.duration, 1) for c in clips] == [round(c.duration_s, 1) for c in info.clips]
    assert [v.name for v in library.list()] == ["Alice Smith"]
    assert library.info("ALICE SMITH") == info
    with sqlite3.connect(library.root / "index.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    library.remove("Alice Smith")
    assert library.list() == [] and not (library.clips_dir / "Alice Smith").exists()
    with pytest.raises(VoiceNotFound, match="voxclone voices list"):
        library.info("Alice Smith")


def test_existing_voice_needs_replace(library, audio_files):
    first = library.add("alice", [audio_files["fox"]])
    with pytest.raises(VoiceExists):
        library.add("ALICE", [audio_files["arctic"]])
    assert library.info("alice") == first
    second = library.add("alice", [audio_files["arctic"]], replace=True)
    assert [c.original_name for c in second.clips] == [audio_files["arctic"].name]
    assert sorted(p.name for p in (library.clips_dir / "alice").iterdir()) == [second.clips[0].filename]


def test_add_clips(library, audio_files):
    library.add("alice", [audio_files["fox"]])
    info = library.add_clips("alice", [audio_files["short"], audio_files["fox"]])
    assert [c.original_name for c in info.clips] == ["fox.wav", "short.wav"]  # duplicate kept once
    with pytest.raises(VoiceNotFound, match="voxclone voices list"):
        library.add_clips("nobody", [audio_files["fox"]])


def test_export_import_round_trip(library, audio_files, tmp_path):
    info = library.add("alice", [audio_files["fox"], audio_files["mp3"]])
    zip_path = library.export("alice", tmp_path / "out" / "alice.zip")
    with zipfile.ZipFile(zip_path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format_version"] == archive.ARCHIVE_FORMAT_VERSION
    assert [c["sha256"] for c in manifest["clips"]] == [c.sha256 for c in info.clips]
    library.remove("alice")
    back = library.import_(zip_path)
    assert back.name == "alice" and back.clips == info.clips
    with pytest.raises(VoiceExists):
        library.import_(zip_path)
    assert library.import_(zip_path, name="bob").clips == info.clips
    assert library.import_(zip_path, replace=True).clips == info.clips
    assert [v.name for v in library.list()] == ["alice", "bob"]
    assert back.consent is None and "consent" not in manifest


def test_consent_travels_with_an_exported_voice(library, audio_files, tmp_path):
    statement = "Alice Example agreed on 2026-11-30 to cloning for audiobook narration."
    library.add("alice", [audio_files["fox"]], consent=statement)
    zip_path = library.export("alice", tmp_path / "alice.zip")
    back = library.import_(zip_path, name="alice2")
    assert back.consent == statement


def test_profile_cached_and_rebuilt(library, audio_files, encoder, monkeypatch):
    library.add("alice", [audio_files["arctic"]])
    conv = CountingConverter()
    first = library.profile("alice", conv)
    assert conv.calls == 1 and len(first.embedding) == 256
    assert abs(np.linalg.norm(first.embedding_array) - 1.0) < 1e-4
    assert np.isfinite(first.lf0_mean) and 0.0 < first.lf0_std < 1.0
    assert first.features["n_clips"] == 1 and first.converter_version == "1"
    assert VoiceLibrary().profile("alice", conv) == first and conv.calls == 1  # cached on disk
    library.add_clips("alice", [audio_files["short"]])
    second = library.profile("alice", conv)
    assert conv.calls == 2 and second.features["n_clips"] == 2
    assert second.clip_hashes == sorted(c.sha256 for c in library.info("alice").clips)
    conv.version = "2"
    assert library.profile("alice", conv).converter_version == "2" and conv.calls == 3
    monkeypatch.setattr(profile_mod, "PROFILE_FORMAT_VERSION", 2)
    assert library.profile("alice", conv).format_version == 2 and conv.calls == 4
    assert library.profile("alice", conv).format_version == 2 and conv.calls == 4


def test_build_profile_without_library(audio_files, encoder):
    clip = load(audio_files["arctic"])
    prof = build_profile("ref", [clip], CountingConverter())
    assert prof.name == "ref" and len(prof.clip_hashes) == 1 and prof.speech_seconds >= 3.0
    again = VoiceProfile.from_dict(json.loads(json.dumps(prof.to_dict())))
    assert again == prof


def _profile_dict(**changes) -> dict:
    prof = VoiceProfile(name="x", format_version=profile_mod.PROFILE_FORMAT_VERSION,
                        clip_hashes=["a" * 64], embedding=[0.0] * 256, lf0_mean=5.0,
                        lf0_std=0.2, speech_seconds=4.0, converter="world",
                        converter_version="1", features={})
    return {**prof.to_dict(), **changes}


@pytest.mark.parametrize("version", [0, 99, "1", None])
def test_unknown_profile_version_refused(version):
    assert VoiceProfile.from_dict(_profile_dict()).name == "x"
    with pytest.raises(ProfileVersionError, match="not supported"):
        VoiceProfile.from_dict(_profile_dict(format_version=version))


def test_profile_missing_fields_refused():
    data = _profile_dict()
    del data["embedding"]
    with pytest.raises(ProfileVersionError, match="embedding"):
        VoiceProfile.from_dict(data)


@pytest.mark.parametrize("name", ["../x", "a/b", "..", "", "a\\b", " x", "x.", "a..b",
                                  "x" * 65, "ok\n", "/abs", "é"])
def test_bad_names_store_nothing(library, audio_files, name):
    before = _state(library)
    with pytest.raises(InvalidVoiceName):
        library.add(name, [audio_files["fox"]])
    assert _state(library) == before
    assert not list(library.staging_dir.iterdir())


@pytest.mark.parametrize("name", ["alice", "Bob 2", "a", "voice_1.v-2", "x" * 64])
def test_good_names(name):
    assert validate_name(name) == name


def test_silent_reference(library, audio_files, tmp_path):
    with pytest.raises(SilentReference, match="silence.wav"):
        library.add("alice", [audio_files["fox"], audio_files["silence"]])
    hiss = tmp_path / "hiss.wav"
    sf.write(hiss, np.random.default_rng(0).normal(0, 1e-4, 32000).astype(np.float32), 16000)
    with pytest.raises(SilentReference, match="hiss.wav"):
        library.add("alice", [hiss])
    assert library.list() == []


def test_reference_too_short(library, audio_files):
    with pytest.raises(ReferenceTooShort, match=r"only 1\.\d s of speech; at least 3 s"):
        library.add("alice", [audio_files["short"]])
    assert library.list() == []
    assert check_reference([load(audio_files["arctic"])]) >= 3.0


def test_bad_files(library, audio_files, tmp_path):
    corrupt, empty = tmp_path / "corrupt.wav", tmp_path / "empty.flac"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + os.urandom(2000))
    empty.write_bytes(b"")
    for bad in (corrupt, empty, tmp_path / "missing.wav"):
        with pytest.raises(AudioError):
            library.add("alice", [audio_files["fox"], bad])
    with pytest.raises(ReferenceTooShort):
        library.add("alice", [])
    assert library.list() == []


def test_crash_while_staging_keeps_old_state(library, audio_files, monkeypatch):
    library.add("alice", [audio_files["fox"]])
    library.add("bob", [audio_files["arctic"]])
    before = _state(library)
    real_save, calls = store.save, []

    def failing_save(audio, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 1:
            raise OSError("disk full")
        return real_save(audio, path, *args, **kwargs)

    monkeypatch.setattr(store, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        library.add("alice", [audio_files["mp3"], audio_files["ogg"]], replace=True)
    calls.clear()
    with pytest.raises(OSError, match="disk full"):
        library.add("carol", [audio_files["mp3"], audio_files["ogg"]])
    assert _state(library) == before
    assert not list(library.staging_dir.iterdir())
    assert len(library.clips("alice")) == 1


def test_crash_while_committing_keeps_old_state(library, audio_files, monkeypatch):
    library.add("alice", [audio_files["fox"]])
    before = _state(library)
    real_add_clip = library.index.add_clip

    def failing_add_clip(conn, voice, clip):
        if clip.original_name == "rain.ogg":
            raise sqlite3.OperationalError("disk I/O error")
        real_add_clip(conn, voice, clip)

    monkeypatch.setattr(library.index, "add_clip", failing_add_clip)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        library.add("alice", [audio_files["mp3"], audio_files["ogg"]], replace=True)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        library.add_clips("alice", [audio_files["mp3"], audio_files["ogg"]])
    assert _state(library) == before
    assert len(library.clips("alice")) == 1


def test_leftovers_cleaned_on_open(library, audio_files):
    info = library.add("alice", [audio_files["fox"]])
    stale = library.staging_dir / "123-crashed"
    stale.mkdir()
    (stale / "incoming-0.flac").write_bytes(b"half")
    old = time.time() - 2 * store.STALE_STAGING_S
    os.utime(stale, (old, old))
    fresh = library.staging_dir / "456-running"
    fresh.mkdir()
    (library.clips_dir / "alice" / "0123456789abcdef.flac").write_bytes(b"orphan")
    (library.clips_dir / "ghost").mkdir()
    reopened = VoiceLibrary()
    assert sorted(p.name for p in reopened.staging_dir.iterdir()) == ["456-running"]
    assert sorted(p.name for p in reopened.clips_dir.iterdir()) == ["alice"]
    assert [p.name for p in (reopened.clips_dir / "alice").iterdir()] == [info.clips[0].filename]


def _rewrite(src: Path, dst: Path, edit) -> Path:
    """Copy a zip, letting ``edit(name, data)`` change members (return None to drop one)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = edit(item.filename, zin.read(item))
            if data is not None:
                zout.writestr(item.filename, data)
    return dst


def _manifest_edit(**changes):
    def edit(name, data):
        if name != "manifest.json":
            return data
        manifest = {**json.loads(data), **changes}
        return json.dumps({k: v for k, v in manifest.items() if v is not ...})
    return edit


def _add_member(name: str, data: bytes = b"x", mode: int = stat.S_IFREG | 0o644):
    def extra(zout):
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        zout.writestr(info, data)
    return extra


HOSTILE = {
    "absolute": (_add_member("/etc/evil.flac"), VoiceArchiveError),
    "dotdot": (_add_member("../evil.flac"), VoiceArchiveError),
    "dotdot-inner": (_add_member("clips/../../evil.flac"), VoiceArchiveError),
    "backslash": (_add_member("..\\evil.flac"), VoiceArchiveError),
    "symlink": (_add_member("clips/0123456789abcdef.flac", b"/etc/passwd",
                            stat.S_IFLNK | 0o777), VoiceArchiveError),
    "unexpected": (_add_member("notes.txt"), VoiceArchiveError),
    "too-many": (lambda zout: [_add_member(f"clips/{i:016x}.flac")(zout)
                               for i in range(archive.MAX_CLIPS + 1)], VoiceArchiveError),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_member_rejected(library, audio_files, tmp_path, kind):
    good = library.export(library.add("alice", [audio_files["fox"]]).name, tmp_path / "good.zip")
    library.remove("alice")
    extra, error = HOSTILE[kind]
    bad = _rewrite(good, tmp_path / "bad.zip", lambda n, d: d)
    with zipfile.ZipFile(bad, "a") as zout:
        extra(zout)
    with pytest.raises(error):
        library.import_(bad)
    assert library.list() == [] and not (tmp_path / "evil.flac").exists()
    assert not list(library.staging_dir.iterdir())


@pytest.mark.parametrize("kind", ["no-manifest", "no-version", "version-99", "tampered",
                                  "not-flac", "bad-json", "not-zip", "too-large", "bad-name"])
def test_broken_archive_rejected(library, audio_files, tmp_path, monkeypatch, kind):
    good = library.export(library.add("alice", [audio_files["fox"]]).name, tmp_path / "good.zip")
    library.remove("alice")
    bad, error = tmp_path / "bad.zip", VoiceArchiveError
    if kind == "no-manifest":
        _rewrite(good, bad, lambda n, d: None if n == "manifest.json" else d)
    elif kind == "no-version":
        _rewrite(good, bad, _manifest_edit(format_version=...))
    elif kind == "version-99":
        _rewrite(good, bad, _manifest_edit(format_version=99))
        error = ProfileVersionError
    elif kind == "tampered":
        _rewrite(good, bad, lambda n, d: d if n == "manifest.json" else d[:-10] + bytes(10))
    elif kind == "not-flac":
        _rewrite(good, bad, lambda n, d: d if n == "manifest.json" else b"RIFF" + d[4:])
    elif kind == "bad-json":
        _rewrite(good, bad, lambda n, d: b"{" if n == "manifest.json" else d)
    elif kind == "bad-name":
        _rewrite(good, bad, _manifest_edit(name="../evil"))
        error = InvalidVoiceName
    elif kind == "not-zip":
        bad.write_bytes(b"PK\x03\x04 not really a zip")
    else:
        monkeypatch.setattr(archive, "MAX_CLIP_BYTES", 1000)
        bad = good
    with pytest.raises(error):
        library.import_(bad)
    assert library.list() == [] and not list(library.staging_dir.iterdir())

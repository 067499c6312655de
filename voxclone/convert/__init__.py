"""Tone-colour converters behind one Converter protocol."""

from voxclone.convert import adapted, knn, world, world_auto  # noqa: F401  (register the converters)
from voxclone.convert.base import (ConvertSettings, Converter, Features, converter_names,
                                   get_converter, register_converter)


def _openvoice() -> Converter:
    from voxclone.convert.openvoice.engine import OpenVoiceEngine

    return OpenVoiceEngine.from_settings()


register_converter("openvoice-v2", _openvoice)

__all__ = ["ConvertSettings", "Converter", "Features", "converter_names", "get_converter",
           "register_converter"]

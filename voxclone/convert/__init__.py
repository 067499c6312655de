"""Tone-colour converters behind one Converter protocol."""

from voxclone.convert import world  # noqa: F401  (registers the converter)
from voxclone.convert.base import (ConvertSettings, Converter, Features, converter_names,
                                   get_converter, register_converter)

__all__ = ["ConvertSettings", "Converter", "Features", "converter_names", "get_converter",
           "register_converter"]

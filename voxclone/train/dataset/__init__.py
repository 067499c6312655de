"""Dataset preparation: corpus readers, VAD splitting, transcription, filters, LJSpeech output."""

from voxclone.train.dataset.prepare import PrepareConfig, PrepareReport, prepare_dataset
from voxclone.train.dataset.sources import SourceItem, read_source

__all__ = ["PrepareConfig", "PrepareReport", "prepare_dataset", "SourceItem", "read_source"]

"""Pipelines: text → cloned speech (VoiceCloner) and speech → speech (VoiceConversionPipeline)."""

from voxclone.pipeline import knn  # noqa: F401  (registers the knn converter)
from voxclone.pipeline.cloner import SayResult, VoiceCloner
from voxclone.pipeline.config import PipelineConfig
from voxclone.pipeline.conversion import ConversionProfile, VoiceConversionPipeline

__all__ = ["ConversionProfile", "PipelineConfig", "SayResult", "VoiceCloner", "VoiceConversionPipeline"]

"""Batch jobs that resume after a crash and scale out on Ray (``voxclone batch``)."""

from voxclone.scale.batch import BatchOptions, job_spec, run_batch
from voxclone.scale.job import BatchSummary
from voxclone.scale.manifest import BatchItem, load_manifest, validate_id

__all__ = ["BatchItem", "BatchOptions", "BatchSummary", "job_spec", "load_manifest", "run_batch",
           "validate_id"]

"""Provenance of synthetic speech: an inaudible watermark, metadata in every file, and signed
content credentials (C2PA)."""

"""Signed content credentials (C2PA manifests, c2pa-python) for outputs: sign and verify.

The manifest says the file was created (``c2pa.created``) as trained algorithmic media by the
engine pair named as software agent, and carries the provenance record (voice id, seed, watermark,
consent). It is signed with the local key (:mod:`voxclone.provenance.keys`). Verification checks
the signature and the hash of the audio: a file changed after signing fails.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from voxclone.errors import ProvenanceError
from voxclone.provenance.keys import load_or_create

SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
MIME = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac"}
"""Formats the manifest is embedded in (Ogg/Opus outputs carry the tags only)."""
PROVENANCE_LABEL = "org.voxclone.provenance"
UNTRUSTED = "signingCredential.untrusted"
"""Reported for every local key (its CA is in no trust list): not a failure here."""


def available() -> bool:
    """Whether c2pa-python is installed."""
    import importlib.util

    return importlib.util.find_spec("c2pa") is not None


def manifest(info: dict[str, Any], title: str, mime: str) -> dict[str, Any]:
    """The C2PA manifest definition of one output described by ``info`` (its metadata)."""
    agent = {"name": f"voxclone {info.get('engine', '')}".strip(),
             "version": str(info.get("generator_version", ""))}
    keep = ("generator", "generator_version", "content", "kind", "engine", "voice_id", "seed",
            "watermark", "consent", "created", "base_voice")
    record = {k: info[k] for k in keep if info.get(k) is not None}
    return {
        "claim_generator_info": [{"name": "voxclone", "version": agent["version"]}],
        "title": title, "format": mime,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [{
                "action": "c2pa.created", "digitalSourceType": SOURCE_TYPE,
                "softwareAgent": agent, "description": "synthetic speech"}]}},
            {"label": PROVENANCE_LABEL, "data": record},
        ],
    }


def sign_if_supported(path: str | os.PathLike, info: dict[str, Any], title: str | None = None) -> bool:
    """Sign ``path`` in place when its format takes a manifest and c2pa-python is installed."""
    if Path(path).suffix.lower() not in MIME or not available():
        return False
    sign(path, info, title)
    return True


def sign_stored(path: str | os.PathLike, title: str | None = None) -> bool:
    """Sign ``path`` with the metadata already in its tags (batch outputs written by workers);
    ``title``: the name the manifest gives the file (default: its own)."""
    from voxclone.audio.metadata import read_metadata

    info = read_metadata(path)["settings"]
    return sign_if_supported(path, info, title) if info else False


def sign(path: str | os.PathLike, info: dict[str, Any], title: str | None = None) -> Path:
    """Embed a signed manifest in ``path`` (wav/mp3/flac), replacing the file atomically;
    ``title``: the name the manifest gives the file (default: its own)."""
    import c2pa

    p = Path(path)
    mime = MIME.get(p.suffix.lower())
    if mime is None:
        raise ProvenanceError(f"Content credentials go into {', '.join(MIME)} files, not "
                              f"'{p.suffix}'. Write one of those formats.")
    key = load_or_create()
    signer_info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=key.chain_pem,
                                      private_key=key.key_pem, ta_url=None)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=p.suffix)
    os.close(fd)
    try:
        with c2pa.Signer.from_info(signer_info) as signer, \
                c2pa.Builder(json.dumps(manifest(info, title or p.name, mime))) as builder, \
                open(p, "rb") as src, open(tmp, "w+b") as dst:
            builder.sign(signer, mime, src, dst)
        os.replace(tmp, p)
    except c2pa.C2paError as exc:
        raise ProvenanceError(f"Cannot sign {p} ({exc}). Make a new key with "
                              "`voxclone keys --new`, or write an Ogg/Opus file (tags only).") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def verify(path: str | os.PathLike) -> dict[str, Any]:
    """What the file's manifest says and whether it holds.

    Returns ``{"signed": False}`` when the file has none; else signed, valid (signature and
    hashes hold; the local CA being untrusted does not count), changed_after_signing (a hash
    assertion failed), issuer, time, actions, provenance and the failure codes.
    """
    import c2pa

    p = Path(path)
    mime = MIME.get(p.suffix.lower())
    if mime is None or not available():
        return {"signed": False, "reason": "format without content credentials" if mime is None
                else "c2pa-python not installed"}
    from voxclone.audio.io import MAX_FILE_BYTES

    if not p.is_file():
        raise ProvenanceError(f"File not found: {p}. Check the path.")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ProvenanceError(f"{p} is over {MAX_FILE_BYTES // 2**20} MiB: too large to verify here.")
    try:
        with open(p, "rb") as f, c2pa.Reader(mime, f) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        text = str(exc)
        if "ManifestNotFound" in text or "JumbfNotFound" in text or "not found" in text.lower():
            return {"signed": False, "reason": "no manifest"}
        return {"signed": True, "valid": False, "changed_after_signing": True,
                "failures": [text]}
    return _summary(store)


def _summary(store: dict[str, Any]) -> dict[str, Any]:
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    statuses = store.get("validation_status") or []
    results = store.get("validation_results", {}).get("activeManifest", {})
    failures = [s.get("code", "") for s in (results.get("failure") or statuses)]
    failures = [c for c in failures if c and c != UNTRUSTED]
    assertions = {a.get("label"): a.get("data") for a in active.get("assertions", [])}
    actions = (assertions.get("c2pa.actions.v2") or assertions.get("c2pa.actions") or {}).get("actions", [])
    sig = active.get("signature_info", {})
    return {"signed": True, "valid": not failures,
            "changed_after_signing": any("mismatch" in c or "hash" in c for c in failures),
            "issuer": sig.get("issuer"), "signed_at": sig.get("time"),
            "trusted": UNTRUSTED not in json.dumps(store.get("validation_results", statuses)),
            "actions": actions, "provenance": assertions.get(PROVENANCE_LABEL),
            "failures": failures}

"""Signing of cache entries: the trust model.

Cache entries hold pickles, and unpickling runs code. Lakelet therefore trusts a
cache exactly as much as it trusts whoever can write to its storage:

* With no key configured, any entry found is loaded. Use this for storage only
  you (or people you trust to run code on your machine) can write: a local
  folder, a private bucket.
* With ``LAKELET_CACHE_KEY`` set (``lakelet.config.get_config().cache_key``), every
  index entry carries an HMAC-SHA256 of its bytes under that key, and entries are
  written to addresses derived from the key too. On a hit the HMAC is checked
  before anything is decoded, and every blob the entry refers to is re-hashed
  against its content address, so a value swapped in a shared S3/Redis tier is
  refused. An entry that fails the check is reported (:class:`CacheWarning`),
  recomputed and replaced; it is never unpickled.

Share the key with exactly the people whose cached results you are willing to
execute. Rotating the key simply starts a new, empty cache.
"""

from __future__ import annotations

import hashlib
import hmac

MAGIC = b"LKLTIDX1"  # every index entry starts with this (lets fsck tell entries from values)
_SIGNED = b"S"
_UNSIGNED = b"U"
_MAC_SIZE = 32


def key_id(secret: bytes | None) -> str:
    """A public identifier of the signing key (empty without one); part of every entry address."""
    if not secret:
        return ""
    return hashlib.sha256(b"lakelet-cache-key-id\x00" + secret).hexdigest()[:16]


def seal(payload: bytes, secret: bytes | None) -> bytes:
    """The bytes of an index entry: magic, flag, MAC (if signed) and payload."""
    if not secret:
        return MAGIC + _UNSIGNED + payload
    mac = hmac.new(secret, MAGIC + payload, hashlib.sha256).digest()
    return MAGIC + _SIGNED + mac + payload


def unseal(blob: bytes, secret: bytes | None) -> tuple[bytes, str | None]:
    """(payload, problem). ``problem`` is None if the entry may be trusted, else why not."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 1:
        return b"", "not a lakelet cache entry"
    flag = blob[len(MAGIC) : len(MAGIC) + 1]
    body = blob[len(MAGIC) + 1 :]
    if flag == _UNSIGNED:
        if secret:
            return body, "entry is not signed but LAKELET_CACHE_KEY is set"
        return body, None
    if flag != _SIGNED or len(body) < _MAC_SIZE:
        return b"", "malformed cache entry header"
    mac, payload = body[:_MAC_SIZE], body[_MAC_SIZE:]
    if not secret:
        return payload, None  # signed by someone; without a key we trust the storage itself
    expected = hmac.new(secret, MAGIC + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        return payload, "HMAC does not match LAKELET_CACHE_KEY"
    return payload, None


__all__ = ["MAGIC", "key_id", "seal", "unseal"]

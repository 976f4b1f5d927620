"""Keyed digests and sealed secrets, with keys derived from the instance keys by purpose."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from webapp.core.settings import Settings


def settings() -> Settings:
    value = current_app.extensions["carnet.settings"]
    assert isinstance(value, Settings)
    return value


def derive(key: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(key)


def keyed_digest(purpose: str, value: str) -> str:
    """HMAC-SHA256 of a short secret (codes, tokens) under a key kept outside the database."""
    key = derive(settings().secret_key, f"carnet-digest:{purpose}")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def seal(purpose: str, plaintext: bytes) -> bytes:
    key = derive(settings().master_key, f"carnet-seal:{purpose}")
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, purpose.encode())


def unseal(purpose: str, sealed: bytes) -> bytes:
    key = derive(settings().master_key, f"carnet-seal:{purpose}")
    return AESGCM(key).decrypt(sealed[:12], sealed[12:], purpose.encode())

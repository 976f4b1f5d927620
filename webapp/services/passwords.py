"""Password hashing (argon2id) and the password rules of SECURITY.md."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

from webapp.services.crypto import settings

MIN_LENGTH = 12
MAX_LENGTH = 128


def hasher() -> PasswordHasher:
    current = settings()
    return _hasher(current.argon2_time_cost, current.argon2_memory_cost, current.argon2_parallelism)


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_cost, parallelism).hash("carnet-unknown-identifier")


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no stored hash, spend the same time and answer no."""
    current = settings()
    params = (current.argon2_time_cost, current.argon2_memory_cost, current.argon2_parallelism)
    if len(password) > MAX_LENGTH:
        return False
    try:
        return hasher().verify(stored_hash or _dummy_hash(*params), password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("webapp.data").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _folded(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def problems(password: str, *, personal: tuple[str, ...] = ()) -> list[str]:
    """Every rule the password breaks, as sentences for the person choosing it."""
    found: list[str] = []
    if len(password) < MIN_LENGTH:
        found.append(str(_l("Choisissez au moins 12 caractères.")))
    if len(password) > MAX_LENGTH:
        found.append(str(_l("Choisissez au plus 128 caractères.")))
    folded = _folded(password)
    stripped = re.sub(r"[\d\W_]+$", "", folded)
    if folded in common_passwords() or (stripped and stripped in common_passwords()):
        found.append(str(_l("Ce mot de passe est trop courant : il serait deviné vite.")))
    elif len(set(folded)) <= 3:
        found.append(str(_l("Ce mot de passe répète trop les mêmes caractères.")))
    for item in personal:
        item_folded = _folded(item)
        if len(item_folded) >= 4 and item_folded in folded:
            found.append(str(_l("N'utilisez pas votre identifiant ou votre nom.")))
            break
    return found

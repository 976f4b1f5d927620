from __future__ import annotations

import pytest
from flask import Flask

from webapp.services import passwords


@pytest.mark.parametrize(
    ("candidate", "accepted"),
    [
        ("Un-mot-de-passe-solide-42", True),
        ("correct horse battery staple", True),
        ("la mer est calme ce matin", True),
        ("élève écrit à l'été", True),
        ("court", False),  # too short
        ("elevenchars", False),  # 11 characters
        ("x" * 129, False),  # too long
        ("motdepasse123", False),  # common, with the usual ending
        ("MotDePasse2026!", False),  # common, whatever the case
        ("azertyuiop12", False),  # keyboard run
        ("Azertyuiopqsdf", False),
        ("123456789012", False),
        ("aaaaaaaaaaaaaaaa", False),  # one character repeated
        ("abababababababab", False),  # two characters repeated
        ("bienvenue2026", False),
        ("Mot-de-passé-à-accents", True),
    ],
)
def test_password_rules(app: Flask, candidate: str, accepted: bool) -> None:
    assert (passwords.problems(candidate) == []) is accepted


def test_a_password_must_not_contain_the_identifier(app: Flask) -> None:
    assert passwords.problems("marie.dubois-est-la", personal=("marie.dubois",))
    assert not passwords.problems("une phrase sans rapport", personal=("marie.dubois",))


def test_hashes_are_argon2id_and_verify(app: Flask) -> None:
    stored = passwords.hash_password("Un-mot-de-passe-solide-42")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "Un-mot-de-passe-solide-42")
    assert not passwords.verify(stored, "Un-mot-de-passe-solide-43")


def test_no_hash_means_no_even_for_the_dummy_password(app: Flask) -> None:
    assert not passwords.verify(None, "carnet-unknown-identifier")


def test_overlong_password_is_refused_before_hashing(app: Flask) -> None:
    stored = passwords.hash_password("Un-mot-de-passe-solide-42")
    assert not passwords.verify(stored, "y" * 10_000)


def test_common_list_is_shipped_and_large(app: Flask) -> None:
    assert len(passwords.common_passwords()) > 1000

"""Passwords: argon2id hashing and the rules a new password must pass.

The rules follow NIST SP 800-63B and OWASP ASVS 2.1: a minimum length, no composition rules, and
a refusal of passwords that are easy to guess. zxcvbn (the estimator Dropbox built) carries the
lists of common passwords, words and names and recognises repeats, sequences and keyboard
patterns; we refuse what it scores below "safely unguessable" (3 of 4).
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200  # long passphrases are welcome; argon2 input is bounded all the same
MIN_GUESS_SCORE = 3  # zxcvbn: 3 = "safely unguessable", about 10^10 guesses


@dataclass(frozen=True)
class PasswordProblem:
    """Why a password is refused, in the user's language."""

    message: str


def _hasher() -> PasswordHasher:
    """argon2id; the profile is configuration so that the test suite can use the cheapest one."""
    profile = current_app.config.get("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY")
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; a missing hash still costs one hash (no timing hint)."""
    if password_hash is None:
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> PasswordProblem | None:
    """None if ``password`` may be used, else why not.

    ``user_inputs`` are the account's own words (e-mail, name): a password built from them is
    easy to guess for anyone who knows the person.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem(_("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        return PasswordProblem(_("Use at most %(count)d characters.", count=MAX_PASSWORD_LENGTH))
    words = tuple(part for value in user_inputs for part in _parts(value))
    from zxcvbn import zxcvbn  # here: its word lists load only when a password is checked

    result = zxcvbn(password, user_inputs=list(words))
    own = sum(
        len(match["token"])
        for match in result["sequence"]
        if match.get("dictionary_name") == "user_inputs"
    )
    # Whoever knows the person knows these words: half the password made of them is too much,
    # whatever the estimator thinks of the rest.
    if own * 2 >= len(password):
        return PasswordProblem(_("Do not build the password from your name or e-mail address."))
    if result["score"] >= MIN_GUESS_SCORE:
        return None
    patterns = {match["pattern"] for match in result["sequence"]}
    if "repeat" in patterns:
        return PasswordProblem(_("Repeated characters or words are easy to guess."))
    if "sequence" in patterns or "spatial" in patterns:
        return PasswordProblem(
            _("Sequences such as “abcd”, “1234” or keyboard rows are easy to guess.")
        )
    if "dictionary" in patterns:
        return PasswordProblem(
            _("This password is on the lists of common passwords that attackers try first.")
        )
    return PasswordProblem(
        _("This password is easy to guess. A few unrelated words make a strong one.")
    )


def _parts(value: str) -> list[str]:
    # "ada.lovelace@example.org" -> ada, lovelace, example: each is a guessable word.
    cleaned = value.lower().replace("@", " ").replace(".", " ").replace("-", " ")
    return [part for part in cleaned.split() if len(part) >= 3]

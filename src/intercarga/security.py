"""Secrets at rest: station passwords (scrypt), and the tokens we issue (SHA-256): admin API
tokens and the OCPI credentials tokens partners present to us (TOKEN_A, TOKEN_B, TOKEN_C).

Passwords are low-entropy and chosen by people, so they get a slow, salted hash; tokens are 256
random bits made here, so a fast hash is enough (see :func:`hash_token`). This module must never
log or return a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = [
    "hash_password",
    "hash_token",
    "new_token",
    "tokens_equal",
    "unmatchable_hash",
    "verify_password",
]

# scrypt cost: n=2**14, r=8, p=1 (RFC 7914's interactive-login example), ~16 MiB and ~50 ms.
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """A self-describing scrypt hash: ``scrypt$n$r$p$salt$hash`` (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encode = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def unmatchable_hash() -> str:
    """A hash in :func:`hash_password`'s form and of its cost that no password matches (its
    digest is random bytes, not a hash: a match is as likely as guessing 256 random bits), for
    checking a password against when there is nothing to check it against, so that the answer
    takes as long; made without running scrypt."""
    encode = base64.b64encode
    salt, digest = (
        encode(secrets.token_bytes(16)).decode(),
        encode(secrets.token_bytes(32)).decode(),
    )
    return f"scrypt${_N}${_R}${_P}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; malformed hashes never match."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token we issued; a presented token is looked up by this hash.

    Plain, unsalted SHA-256, not scrypt: the token has 256 bits from :func:`new_token`, so no
    amount of hashing speed makes guessing it from a stolen hash feasible, and a slow hash would
    only cost ~50 ms on every OCPI and admin request. Unsalted, so that the hash is the lookup
    key (an indexed, unique column) rather than a scan verifying every stored salt. Unkeyed: a
    secret key (pepper) only helps low-entropy secrets, and would have to be kept and rotated
    apart from the database.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())

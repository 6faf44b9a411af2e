"""Anonymous learners: a random id, signed by the server, so that a cookie or
header names one learner and cannot be guessed or altered into another.

A token is ``<id>.<signature>``: 22 characters of random id (128 bits,
base64url) and 43 of HMAC-SHA256 over it, base64url.  The key is
``QBANK_SECRET_KEY`` or, unset, one the store makes once and keeps, so every
replica on that store accepts every other's tokens.  No passwords, no
accounts: progress moves between devices by export and import.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

COOKIE = "qbank_learner"
HEADER = "X-Learner"
KEY_NAME = "learner-signing-key"  # the store secret's name, when QBANK_SECRET_KEY is unset
COOKIE_MAX_AGE_S = 2 * 365 * 24 * 3600
_TOKEN = re.compile(r"([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")


def _signature(learner_id: str, key: bytes) -> str:
    digest = hmac.new(key, learner_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(learner_id: str, key: bytes) -> str:
    return f"{learner_id}.{_signature(learner_id, key)}"


def new_learner(key: bytes) -> tuple[str, str]:
    """A new learner: (id, token)."""
    learner_id = secrets.token_urlsafe(16)
    return learner_id, sign(learner_id, key)


def verify(token: str, key: bytes) -> str | None:
    """The learner id ``token`` carries, or ``None`` if this key did not sign it."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    learner_id, signature = match.groups()
    return learner_id if hmac.compare_digest(signature, _signature(learner_id, key)) else None

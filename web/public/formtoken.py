"""The complaint form's own token: one-time (its nonce is the submission's place in the
ledger, so the form is taken in once however often it is sent), bound to the browser's
``cx_csrf`` cookie (another site cannot send a form in this browser's name) and valid for
a limited time (signed with itsdangerous under the console's secret)."""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner


def _signer(secret: str, cookie: str) -> TimestampSigner:
    return TimestampSigner(secret, salt=f"complaintd-public-form:{cookie}")


def issue(secret: str, cookie: str) -> str:
    return _signer(secret, cookie).sign(secrets.token_urlsafe(18)).decode()


def place_of(secret: str, cookie: str | None, token: object, max_age_seconds: int) -> str | None:
    """The token's nonce when it is ours, for this cookie and not too old; else None."""
    if not cookie or not isinstance(token, str) or len(token) > 200:
        return None
    try:
        nonce = _signer(secret, cookie).unsign(token, max_age=max_age_seconds)
    except (BadSignature, SignatureExpired):
        return None
    return nonce.decode()

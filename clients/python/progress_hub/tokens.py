"""HS256 tokens for development and tests (production tokens come from your identity provider
or `progress-hub token`)."""

import base64
import hashlib
import hmac
import json
import time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_token(secret, sub, role="subscriber", ttl=3600, **claims):
    """Returns an HS256 JWT with `sub`, `role` and `exp` (now + ttl seconds) plus `claims`."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {"sub": sub, "role": role, "exp": int(time.time() + ttl), **claims}
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(payload, separators=(",", ":")).encode())
    )
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


def token_expiry(token):
    """The JWT's `exp` in seconds since the epoch, read without verifying the signature (only to
    know when to refresh); None when the token is not a JWT or has no `exp`."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (AttributeError, IndexError, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None

"""The secret part of an API key token, as the tests need it."""

from __future__ import annotations

from adapters.api_key_tokens import parse_token


def secret_of(token: str) -> str:
    """The token's secret, cut by the token's format (the secret may itself hold `_`)."""
    parsed = parse_token(token)
    assert parsed is not None, "not a well-formed API key token"
    return parsed[1]

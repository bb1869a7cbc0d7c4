"""Digests: accepted only as signed, whole and well-formed; anything else is refused, never
a crash (a small Hypothesis fuzz included)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.digest import check_digest, expected_streams, make_digest
from adapters.integrity import StreamHead
from adapters.signing import SigningKey, SigningKeyError, public_key_from_pem
from domain.errors import DigestInvalidError

KEY = SigningKey(Ed25519PrivateKey.generate())
OTHER_KEY = SigningKey(Ed25519PrivateKey.generate())
HEADS = [
    StreamHead("t1", str(UUID(int=n * 7919 + 1, version=4)), n + 1, bytes([n]) * 32)
    for n in range(5)
] + [StreamHead("t2", str(UUID(int=99, version=4)), 3, b"\xff" * 32)]


def document(**options: Any) -> dict[str, Any]:
    return make_digest(HEADS, options.get("key", KEY), tenant_id=options.get("tenant_id"))


def refused(value: Any, *fragments: str) -> str:
    with pytest.raises(DigestInvalidError) as caught:
        check_digest(value, KEY.public_key)
    assert caught.value.field == "digest"
    for fragment in fragments:
        assert fragment in caught.value.detail
    return caught.value.detail


def test_a_digest_checks_as_a_dict_as_json_text_and_as_bytes() -> None:
    doc = document()
    for form in (doc, json.dumps(doc), json.dumps(doc, indent=2).encode()):
        digest = check_digest(form, KEY.public_key)
        assert [s.stream_id for s in digest.streams] == sorted(h.stream_id for h in HEADS)
    expected = expected_streams(check_digest(doc, KEY.public_key), tenant_id="t2")
    assert [e.count for e in expected.values()] == [3]


def test_a_digest_signed_with_another_key_is_refused() -> None:
    refused(document(key=OTHER_KEY), "another key")
    forged = document(key=OTHER_KEY) | {"key_id": KEY.key_id}
    refused(forged, "signature does not match")


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["streams"][0].update(count=d["streams"][0]["count"] + 1),
        lambda d: d["streams"][1].update(head="0" * 64),
        lambda d: d["streams"][2].update(tenant_id="t9"),
        lambda d: d.update(tenant_id="t1"),
        lambda d: d.update(created_at="2020-01-01T00:00:00Z"),
        lambda d: d["streams"].pop(),
        lambda d: d["streams"].append(d["streams"][0]),
        lambda d: d.update(streams=[]),
        lambda d: d.update(root="0" * 64),
    ],
    ids=[
        "count",
        "head",
        "tenant",
        "scope",
        "time",
        "removed-stream",
        "repeated-stream",
        "emptied",
        "root",
    ],
)
def test_any_altered_field_breaks_the_signature(change: Any) -> None:
    altered = document()
    change(altered)
    refused(altered, "signature does not match")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (b"", "Invalid JSON"),
        (b"{", "Invalid JSON"),
        (b"[]", "document"),
        (b"null", "document"),
        (b'"digest"', "document"),
        (b"\xff\xfe", "Invalid JSON"),
        (b"[" * 100_000, "JSON"),
    ],
    ids=["empty", "truncated", "array", "null", "string", "not-utf8", "deep"],
)
def test_malformed_documents_are_refused(value: bytes, fragment: str) -> None:
    refused(value, fragment)


def test_a_truncated_or_extended_document_is_refused() -> None:
    text = json.dumps(document()).encode()
    refused(text[: len(text) // 2])
    refused(document() | {"note": "added"}, "note", "Extra inputs")
    stream = document()["streams"][0] | {"extra": 1}
    refused(document() | {"streams": [stream]}, "extra")
    signature = document()["signature"]
    refused(document() | {"signature": "!" + signature[1:]}, "base64")
    short = base64.b64encode(b"x" * 10).decode()
    refused(document() | {"signature": short}, "signature does not match")


def test_wrong_types_are_refused_not_coerced() -> None:
    count_as_text = document()
    count_as_text["streams"][0]["count"] = str(count_as_text["streams"][0]["count"])
    refused(count_as_text, "count")
    refused(document() | {"tenant_id": 5}, "tenant_id")
    refused(document() | {"format": "chatledger-digest/2"}, "format")


mutations = st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(mutations, min_size=1, max_size=4))
def test_flipped_bytes_never_crash_and_never_pass_as_another_digest(
    flips: list[tuple[int, int]],
) -> None:
    original = document()
    data = bytearray(json.dumps(original).encode())
    for at, mask in flips:
        data[at % len(data)] ^= mask
    try:
        digest = check_digest(bytes(data), KEY.public_key)
    except DigestInvalidError:
        return
    assert digest.model_dump() == original  # only harmless flips (whitespace) may pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_arbitrary_json_is_refused_without_a_crash(value: Any) -> None:
    refused(json.dumps(value))
    original = document()
    merged = original | value if isinstance(value, dict) else original
    if merged != original:
        refused(merged)


def test_the_signing_key_file_is_created_private_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "signing.key"
    first = SigningKey.load_or_create(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert SigningKey.load_or_create(path).key_id == first.key_id
    public = public_key_from_pem(first.public_pem().encode())
    assert check_digest(make_digest(HEADS, first, tenant_id=None), public).tenant_id is None


def test_a_key_file_that_is_not_an_ed25519_key_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    path.write_text("not a key")
    with pytest.raises(SigningKeyError, match="not a PEM private key"):
        SigningKey.load_or_create(path)
    with pytest.raises(SigningKeyError, match="not a PEM public key"):
        public_key_from_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")

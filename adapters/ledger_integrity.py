"""The Python API for integrity (mixed into `Ledger`): verify the hash chain, sign digests.

`verify` walks every stream (or one tenant's) and reports the first bad event of
each; given a digest, it also checks the streams the digest signed (truncation,
deletion, rewrites). `digest` signs the verified heads with the key in
`signing_key_path` (created on first use); it refuses a log that fails to verify.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.digest import check_digest, expected_streams, make_digest
from adapters.integrity import VerifyReport, verify_chain
from adapters.ledger_core import LedgerCore
from adapters.persistence.chain_reader import ChainReader
from adapters.signing import SIGNING_KEY_FILE, SigningKey, SigningKeyError, public_key_from_pem
from domain.errors import DigestInvalidError, InvalidInputError, TamperingDetectedError

Document = bytes | str | dict[str, Any]
"""A digest document: its JSON text, or the parsed object."""


class IntegrityAPI(LedgerCore):
    """Tamper evidence: `verify`, `digest` and the digest signing key."""

    signing_key_path: Path = Path(".chatledger") / SIGNING_KEY_FILE
    _signing_key: SigningKey | None = None

    def verify(
        self,
        *,
        tenant_id: str | None = None,
        digest: Document | None = None,
        public_key: bytes | None = None,
    ) -> VerifyReport:
        """Check every stream (of `tenant_id` only, when given), and the streams of
        `digest` (signed with this ledger's key, or the PEM `public_key`)."""
        expected = None
        if digest is not None:
            checked = check_digest(digest, self._public_key(public_key))
            if tenant_id is not None and checked.tenant_id not in (None, tenant_id):
                raise DigestInvalidError(f"the digest is for tenant {checked.tenant_id}")
            expected = expected_streams(checked, tenant_id=tenant_id)
        return verify_chain(self._chain_reader(), tenant_id=tenant_id, expected=expected)

    def digest(self, *, tenant_id: str | None = None) -> dict[str, Any]:
        """A signed digest of every stream's head and count (of `tenant_id` only, when
        given), once the whole log (or the tenant's) verifies."""
        report = verify_chain(self._chain_reader(), tenant_id=tenant_id, keep_heads=True)
        if not report.intact:
            raise TamperingDetectedError(f"not signed: {report.verdict()}")
        return make_digest(report.heads, self.signing_key(), tenant_id=tenant_id)

    def signing_key(self) -> SigningKey:
        """The digest signing key (created, mode 0600, on first use)."""
        if self._signing_key is None:
            self._signing_key = SigningKey.load_or_create(self.signing_key_path)
        return self._signing_key

    def _public_key(self, pem: bytes | None) -> Any:
        if pem is None:
            return self.signing_key().public_key
        try:
            return public_key_from_pem(pem)
        except SigningKeyError as error:
            raise InvalidInputError("public_key", str(error)) from None

    def _chain_reader(self) -> ChainReader:
        recorder: Any = self.engine.recorder
        return ChainReader(recorder.datastore, recorder.chain)

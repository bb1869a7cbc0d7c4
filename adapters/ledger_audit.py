"""The Python API for the audit trail (mixed into `Ledger`): list a page, export all.

Every query is one tenant's. Exports read the view a page at a time and yield
lines as they go, so memory stays bounded however long the trail; a bad filter
or cursor is refused before the first line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from adapters.audit_export import ExportFormat, export_lines
from adapters.ledger_core import LedgerCore
from projections.audit import AuditEntry, AuditQuery
from projections.paging import MAX_PAGE_SIZE, Page, decode_cursor

EXPORT_PAGE_SIZE = MAX_PAGE_SIZE
"""Rows an export reads per query."""


class AuditAPI(LedgerCore):
    """Who did what, when, under which request: every event of a tenant, without content."""

    def list_audit(self, query: AuditQuery) -> Page[AuditEntry]:
        """One page of the tenant's audit entries, oldest first."""
        return self.views.audit.list_entries(query)

    def iter_audit(self, query: AuditQuery) -> Iterator[AuditEntry]:
        """Every entry matching `query` (its limit ignored), read a page at a time."""
        _check(query)
        return self.views.audit.iter_entries(replace(query, limit=EXPORT_PAGE_SIZE))

    def export_audit(self, query: AuditQuery, export_format: ExportFormat) -> Iterator[str]:
        """Every entry matching `query` as NDJSON or CSV lines."""
        return export_lines(self.iter_audit(query), export_format)


def _check(query: AuditQuery) -> None:
    if query.cursor is not None:
        decode_cursor(query.cursor, position=int)

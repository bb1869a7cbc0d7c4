"""The step every session command of the engine ends in, for the mixins that build on it.

`Engine` provides `_change`: load the session (fresh when it must be), let `decide`
trigger its events, and record them, deciding again after losing a race. The command
mixins (`TurnCommands`, `ErasureCommands`) call it; this base declares it once.
Imports the domain only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from domain.context import CommandContext
from domain.session import Session

if TYPE_CHECKING:
    from domain.engine import CommandResult


class SessionChanges:
    """Base of the engine's session-command mixins: declares the engine's `_change`."""

    def _change(
        self,
        ctx: CommandContext,
        session_id: UUID,
        decide: Callable[[Session], None],
        *,
        expected_version: int | None,
    ) -> CommandResult:
        raise NotImplementedError  # the engine's

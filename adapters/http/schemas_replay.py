"""The JSON shapes of a replay request, for one session or a batch.

The answers are `adapters.replay.ReplayReport` and `adapters.replay_report.BatchReport`
as they are (JSON), or the batch's HTML page. Deterministic replay answers every
turn from its record, so the options that choose another model are refused
with it rather than silently ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from adapters.http.schemas import Input
from adapters.http.schemas_chat import SettingsFields
from adapters.replay import ReplayMode, ReplayOptions
from domain.errors import InvalidInputError

_COUNTERFACTUAL_ONLY = ("provider", "model", "agent_id", "situation", "settings")


class ReplayIn(Input):
    """How to replay: from the record, or against another provider, model, agent or situation."""

    mode: ReplayMode = Field(
        default="deterministic",
        description="`deterministic`: every turn answered by its recorded completion (no "
        "provider is called; the branch must equal the source). `counterfactual`: every turn "
        "asked again, with the options below",
    )
    provider: str | None = Field(default=None, description="Counterfactual: the provider to ask")
    model: str | None = Field(default=None, description="Counterfactual: the model to ask")
    agent_id: str | None = Field(default=None, description="Counterfactual: the branch's agent")
    situation: str | None = Field(
        default=None, description="Counterfactual: the branch's situation"
    )
    settings: SettingsFields | None = Field(
        default=None, description="Counterfactual: settings over each turn's recorded ones"
    )

    def to_options(self) -> ReplayOptions:
        """The ledger's options; deterministic replay refuses the counterfactual ones."""
        if self.mode == "deterministic":
            for name in _COUNTERFACTUAL_ONLY:
                if getattr(self, name) is not None:
                    raise InvalidInputError(f"body.{name}", "applies to counterfactual replay only")
        return ReplayOptions(
            mode=self.mode,
            provider=self.provider,
            model=self.model,
            agent_id=self.agent_id,
            situation=self.situation,
            settings=self.settings.given_settings() if self.settings else {},
        )


class ReplaysIn(ReplayIn):
    """A batch: every session whose metadata contains `metadata_filter` (replays excluded)."""

    metadata_filter: dict[str, Any] = Field(
        description='Sessions whose metadata contain this object, e.g. {"suite": "nightly"}; '
        "`{}` selects every session"
    )

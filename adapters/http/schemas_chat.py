"""The JSON shapes of a chat turn: the request (`ChatIn`) and the suggestions answer.

The answer of a turn is `adapters.chat_events.TurnResult` (JSON), or its events
(`ChatEvent`, SSE). Per-call settings may be given nested in `settings` or flat
at the top level as Julep takes them; when both name a setting, the flat one
wins, and both win over the agent's defaults.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag

from adapters.http.schemas import Input, MessageIn
from domain.llm import ChatSettings, ToolDefinition
from domain.message import Message
from domain.turns import TurnInput

SETTINGS_RULE = (
    "Per-call settings may be given nested in `settings` or flat at the top level (as Julep "
    "takes them); when both name a setting, the flat one wins. Either wins over the agent's "
    "defaults. `model` likewise: top-level `model` over `settings.model` over the agent's."
)


def _message_kind(value: Any) -> str:
    return "str" if isinstance(value, str) else "MessageIn"


# Tags are type labels `errors.field_path` leaves out of error locations.
ChatMessage = Annotated[
    Annotated[Annotated[str, Field(min_length=1)], Tag("str")]
    | Annotated[MessageIn, Tag("MessageIn")],
    Discriminator(_message_kind),
]


class SettingsFields(Input):
    """The settings of one call; a setting left out (or null) is not sent to the provider."""

    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = Field(default=None, description="One stop sequence or several")
    seed: int | None = None
    tool_choice: Literal["auto", "none", "required"] | str | None = Field(
        default=None, description="`auto`, `none`, `required`, or the name of a tool to call"
    )
    response_format: Literal["text", "json"] | None = None

    def given_settings(self) -> dict[str, Any]:
        """The settings given (not null), `stop` as a list."""
        values = self.model_dump(include=set(SettingsFields.model_fields), exclude_none=True)
        if isinstance(values.get("stop"), str):
            values["stop"] = [values["stop"]]
        return values


class SettingsIn(SettingsFields):
    """Per-call settings, nested."""

    model: str | None = None


class ChatIn(SettingsFields):
    """One turn: new input, how to run it, and per-call settings (flat or in `settings`)."""

    message: ChatMessage | None = Field(
        default=None, description="A message object, or a string (a user message)"
    )
    messages: list[MessageIn] = Field(
        default_factory=list,
        description="Messages sent before `message`, e.g. `tool` messages whose `tool_result` "
        "blocks answer the last reply's tool calls",
    )
    stream: bool | None = Field(
        default=None,
        description="true: answer with SSE events; false: with JSON. Left out: SSE when "
        "`Accept` names `text/event-stream`, else JSON",
    )
    remember: bool = Field(
        default=True, description="false: keep input and reply out of the history"
    )
    recall: bool = Field(default=True, description="false: send only the new input, not history")
    provider: str | None = Field(default=None, description="Overrides the agent's provider")
    model: str | None = Field(default=None, description="Overrides the agent's model")
    settings: SettingsIn | None = None
    tools: list[ToolDefinition] = Field(
        default_factory=list, description="Offered besides the agent's (same name: this one)"
    )
    variables: dict[str, Any] = Field(
        default_factory=dict, description="Extra template variables for situation/instructions"
    )
    suggestions: bool = Field(
        default=False, description="Also ask for follow-up suggestions (one more model call)"
    )

    def to_turn(self) -> TurnInput:
        nested = self.settings.given_settings() if self.settings else {}
        model = self.model or (self.settings.model if self.settings else None)
        settings = ChatSettings(**(nested | self.given_settings()), model=model)
        inputs = [m.to_message() for m in self.messages]
        if isinstance(self.message, str):
            inputs.append(Message.user(self.message))
        elif self.message is not None:
            inputs.append(self.message.to_message())
        return TurnInput(
            messages=inputs,
            settings=settings,
            tools=self.tools,
            provider=self.provider,
            remember=self.remember,
            recall=self.recall,
            variables=self.variables,
        )


class SuggestionsOut(BaseModel):
    """The follow-up suggestions recorded after the session's latest turn that asked."""

    data: list[str]

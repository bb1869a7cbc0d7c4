"""Situation and instruction templates, rendered in Jinja2's sandbox.

Templates see the session's context, metadata, user and agent (and any extra
variables of the call). The sandbox refuses unsafe attribute access; output is
produced in chunks so an over-long or over-slow render stops at its limit.
Every failure is a `TemplateError` naming the field (HTTP 422), never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from domain.errors import TemplateError


class SandboxedRenderer:
    """`TemplateRenderer` on Jinja2's immutable sandbox, with size and time limits."""

    def __init__(self, *, max_output_chars: int = 100_000, max_seconds: float = 1.0) -> None:
        self.environment = ImmutableSandboxedEnvironment(
            undefined=StrictUndefined, autoescape=False
        )
        self.max_output_chars = max_output_chars
        self.max_seconds = max_seconds

    def render(self, template: str, variables: Mapping[str, Any], *, field: str) -> str:
        try:
            compiled = self.environment.from_string(template)
            chunks: list[str] = []
            size = 0
            deadline = time.monotonic() + self.max_seconds
            for chunk in compiled.generate(**variables):
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_output_chars:
                    raise TemplateError(
                        field, f"renders to more than {self.max_output_chars} characters"
                    )
                if time.monotonic() > deadline:
                    raise TemplateError(field, f"took longer than {self.max_seconds} s to render")
        except SecurityError as error:
            raise TemplateError(field, f"not allowed in the sandbox: {error}") from None
        except JinjaTemplateError as error:
            raise TemplateError(field, f"{type(error).__name__}: {error}") from None
        except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as error:
            raise TemplateError(field, f"{type(error).__name__}: {error}") from None
        return "".join(chunks)

"""Situation and instruction templates, rendered in Jinja2's sandbox.

Templates see the session's context, metadata, user and agent (and any extra
variables of the call). The sandbox refuses unsafe attribute access; output is
produced in chunks so an over-long render stops at its limit, and a render that
runs past its time limit is interrupted even when it loops without output
(`render_deadline`). Operations that would build a huge value at once
(`'x' * 10**9`, `10 ** 10**9`, `'x'|center(10**9)`) are refused before they
run. Every failure is a `TemplateError` naming the field (HTTP 422), never a 500.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import StrictUndefined
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from adapters.render_deadline import RenderTimeout, deadline
from domain.errors import TemplateError

MAX_EXPONENT = 1000
"""The largest integer exponent `**` takes (bigger ones build numbers of any size)."""
SIZED_FILTERS = ("center", "indent", "slice", "batch", "truncate", "wordwrap", "format")
"""Filters whose numbers (widths, counts) or format widths size what they build."""
_NUMBERS = re.compile(r"\d+")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, refusing values larger than the output limit before they
    are built: repetitions, powers, widths and counts given to filters, format widths."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, max_output_chars: int) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.max_output_chars = max_output_chars
        for name in SIZED_FILTERS:
            self.filters[name] = self._bounded(self.filters[name])

    def call_binop(self, context: Context, op: str, left: Any, right: Any) -> Any:
        if op == "*":
            self._check_repetition(left, right)
            return operator.mul(left, right)
        if op == "%":
            if isinstance(left, str):
                self._check_sizes(_NUMBERS.findall(left))
            return operator.mod(left, right)
        if isinstance(right, int) and abs(right) > MAX_EXPONENT and left not in (0, 1, -1):
            raise SecurityError(f"exponents above {MAX_EXPONENT} are not allowed")
        return operator.pow(left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            self._check_sizes(_NUMBERS.findall(value.__self__))
        return wrapped

    def _check_repetition(self, left: Any, right: Any) -> None:
        for sequence, times in ((left, right), (right, left)):
            sized = isinstance(sequence, str | list | tuple) and isinstance(times, int)
            if sized and len(sequence) * times > self.max_output_chars:
                raise SecurityError(
                    f"a repetition longer than {self.max_output_chars} is not allowed"
                )

    def _check_sizes(self, sizes: Iterable[Any]) -> None:
        for size in sizes:
            if isinstance(size, str):
                size = int(size)
            if isinstance(size, int) and size > self.max_output_chars:
                raise SecurityError(f"a size above {self.max_output_chars} is not allowed")

    def _bounded(self, sized_filter: Callable[..., Any]) -> Callable[..., Any]:
        def bounded(*args: Any, **kwargs: Any) -> Any:
            self._check_sizes([*args[1:], *kwargs.values()])
            if sized_filter.__name__ == "do_format" and args:
                self._check_sizes(_NUMBERS.findall(str(args[0])))
            return sized_filter(*args, **kwargs)

        return bounded


class SandboxedRenderer:
    """`TemplateRenderer` on Jinja2's immutable sandbox, with size and time limits."""

    def __init__(self, *, max_output_chars: int = 100_000, max_seconds: float = 1.0) -> None:
        self.environment = _BoundedSandbox(max_output_chars)
        self.max_output_chars = max_output_chars
        self.max_seconds = max_seconds

    def render(self, template: str, variables: Mapping[str, Any], *, field: str) -> str:
        try:
            with deadline(self.max_seconds):
                return self._render(template, variables, field)
        except RenderTimeout:
            raise TemplateError(field, f"took longer than {self.max_seconds} s to render") from None
        except SecurityError as error:
            raise TemplateError(field, f"not allowed in the sandbox: {error}") from None
        except JinjaTemplateError as error:
            raise TemplateError(field, f"{type(error).__name__}: {error}") from None
        except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as error:
            raise TemplateError(field, f"{type(error).__name__}: {error}") from None

    def _render(self, template: str, variables: Mapping[str, Any], field: str) -> str:
        compiled = self.environment.from_string(template)
        chunks: list[str] = []
        size = 0
        for chunk in compiled.generate(**variables):
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_output_chars:
                raise TemplateError(
                    field, f"renders to more than {self.max_output_chars} characters"
                )
        return "".join(chunks)

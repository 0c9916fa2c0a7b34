"""``JinjaTemplateRenderer``: the engine's ``TemplateRenderer`` port over the sandboxed environment."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.exceptions import SecurityError

from adapters.templating.environment import TemplateSandbox
from adapters.templating.guard import RenderTimeout, TemplateTooCostly, deadline
from engine.errors import ValidationFailed

MAX_OUTPUT = 64 * 1024
MAX_SECONDS = 1.0
MAX_SOURCE = 64 * 1024
CUT_MARKER = "…"


class JinjaTemplateRenderer:
    """Renders user templates in Jinja2's sandbox, bounded in output size and wall time.

    Output longer than ``max_output`` characters is cut (ending in ``…``) and the rest is never
    generated. A render running past ``max_seconds`` raises ``ValidationFailed``, as do syntax errors,
    sandbox violations and runtime errors; the message says which, with the line when Jinja knows it.
    Compiled templates are cached by source. Safe to share between threads.
    """

    def __init__(
        self, *, max_output: int = MAX_OUTPUT, max_seconds: float = MAX_SECONDS, cache_size: int = 512
    ) -> None:
        self._environment = TemplateSandbox()
        self._max_output = max_output
        self._max_seconds = max_seconds
        self._compile = functools.lru_cache(maxsize=cache_size)(self._compile_uncached)

    def check(self, template: str) -> None:
        """Raise ``ValidationFailed`` if ``template`` does not compile (for validating templates on save)."""
        self._compile(template)

    def render(self, template: str, context: Mapping[str, Any]) -> str:
        """Render ``template`` with ``context``; raise ``ValidationFailed`` when it fails."""
        compiled = self._compile(template)
        pieces: list[str] = []
        size = 0
        try:
            with deadline(self._max_seconds):
                for piece in compiled.generate(dict(context)):
                    pieces.append(piece)
                    size += len(piece)
                    if size > self._max_output:
                        break
        except RenderTimeout as exc:
            raise ValidationFailed(f"template error: {exc}", field="template") from None
        except SecurityError as exc:
            raise ValidationFailed(
                f"template error: not allowed in templates: {exc}", field="template"
            ) from exc
        except TemplateTooCostly as exc:
            raise ValidationFailed(f"template error: {exc}", field="template") from exc
        except Exception as exc:
            # User code can fail in any way (TypeError, ZeroDivisionError, re.error ...); all are bad input.
            raise ValidationFailed(f"template error: {_describe(exc)}", field="template") from exc
        output = "".join(pieces)
        if len(output) > self._max_output:
            return output[: self._max_output - len(CUT_MARKER)] + CUT_MARKER
        return output

    def _compile_uncached(self, template: str) -> Template:
        if len(template) > MAX_SOURCE:
            raise ValidationFailed(f"template is longer than {MAX_SOURCE} characters", field="template")
        try:
            return self._environment.from_string(template)
        except TemplateSyntaxError as exc:
            raise ValidationFailed(
                f"template syntax error on line {exc.lineno}: {exc.message}", field="template"
            ) from exc
        except RecursionError as exc:
            raise ValidationFailed("template is nested too deeply", field="template") from exc


def _describe(exc: Exception) -> str:
    line = _template_line(exc)
    where = f" on line {line}" if line else ""
    return f"{type(exc).__name__}{where}: {exc}"


def _template_line(exc: BaseException) -> int | None:
    """The template line the error was raised from (Jinja maps compiled code lines back to template lines)."""
    traceback = exc.__traceback__
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line

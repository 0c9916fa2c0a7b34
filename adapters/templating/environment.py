"""The sandboxed Jinja2 environment that user-editable templates run in."""

from __future__ import annotations

import functools
from collections.abc import Callable
from string import Formatter
from typing import Any

from jinja2 import ChainableUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.filters import do_center, do_format, do_indent
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SandboxedFormatter
from markupsafe import Markup

from adapters.templating.filters import FILTERS
from adapters.templating.guard import (
    MAX_VALUE,
    TemplateTooCostly,
    check_format_spec,
    check_padding,
    check_printf,
    checked_add,
    checked_modulo,
    checked_multiply,
    checked_power,
    checked_size,
)


class _CheckedFormatter(SandboxedFormatter):
    """Checks each field's final spec, after nested fields (``{:{width}}``) were filled in."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_format_spec(format_spec)
        return Formatter.format_field(self, value, format_spec)


class _CheckedCodeGenerator(CodeGenerator):
    """Wraps ``~`` concatenations, which Jinja compiles to a plain join the sandbox cannot intercept."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_size(")
        super().visit_Concat(node, frame)
        self.write(")")


class TemplateSandbox(SandboxedEnvironment):
    """Jinja2's sandbox, plus OnCall's filters and limits on time-free allocation.

    ``None`` renders as an empty string (``{{ payload.get("x") }}`` on a payload without ``x``), and a
    missing attribute chain (``payload.a.b.c``) is undefined rather than an error, because alert
    payloads vary from one delivery to the next.
    """

    code_generator_class = _CheckedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})
    checked_size = staticmethod(checked_size)

    def __init__(self) -> None:
        super().__init__(autoescape=False, undefined=ChainableUndefined, finalize=_blank_none)
        self.binop_table.update(
            {"*": checked_multiply, "**": checked_power, "%": checked_modulo, "+": checked_add}
        )
        # lipsum builds arbitrarily long text in one call; nothing an alert template needs.
        self.globals.pop("lipsum", None)
        self.filters.update(FILTERS)
        self.filters["format"] = _checked_printf_filter
        self.filters["center"] = _bounded_width(do_center)
        self.filters["indent"] = _bounded_width(do_indent)
        self.filters = {name: _size_checked(function) for name, function in self.filters.items()}

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        check_padding(__obj, args)
        return checked_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None or isinstance(value.__self__, Markup):
            return wrapped
        source: str = value.__self__
        vformat = _CheckedFormatter(self).vformat
        is_format_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one positional argument")
                return str(checked_size(vformat(source, (), args[0])))
            return str(checked_size(vformat(source, args, kwargs)))

        return functools.update_wrapper(checked, value)


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


def _size_checked(function: Callable[..., Any]) -> Callable[..., Any]:
    # functools.wraps copies ``jinja_pass_arg`` too, so context-taking filters keep working.
    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        return checked_size(function(*args, **kwargs))

    return checked


def _checked_printf_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    check_printf(str(value))
    return do_format(value, *args, **kwargs)


def _bounded_width(filter_function: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(filter_function)
    def bounded(value: Any, width: Any = None, *args: Any, **kwargs: Any) -> str:
        if (isinstance(width, int) and width > MAX_VALUE) or (
            isinstance(width, str) and len(width) > MAX_VALUE
        ):
            raise TemplateTooCostly(f"width larger than {MAX_VALUE}")
        if width is None:
            return filter_function(value, *args, **kwargs)
        return filter_function(value, width, *args, **kwargs)

    return bounded

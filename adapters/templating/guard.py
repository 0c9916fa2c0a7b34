"""Bounds on what a user template may cost: wall time, and values that grow without limit.

Time: while a template renders, a ``sys.settrace`` hook checks a deadline on every Python call in the
rendering thread (generator resumptions included) and on every line of the template's own compiled
code, each loop iteration included, and raises :class:`RenderTimeout` once it has passed. That stops
a nested ``for`` over two sandbox ranges (10^10 iterations with no calls at all) within milliseconds
of the deadline. Only template frames get line events, so filters run at close to full speed. The
hook cannot interrupt one long C call, such as a catastrophic regular expression inside ``regex_*``:
template authors are administrators, and the limits below keep single operations small.

Size: repetition (``*``), concatenation (``+``, ``~``), powers, printf/format widths and padding are
checked before they allocate, and the results of filters and method calls after, against
:data:`MAX_VALUE` items. A loop that doubles a string therefore stops at a few tens of megabytes,
not when the machine runs out of memory.
"""

from __future__ import annotations

import math
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

# Larger than anything derived from a 5 MiB body, small enough that a runaway costs little memory.
MAX_VALUE = 16 * 1024 * 1024
MAX_POWER_DIGITS = 10_000
# Compiled templates carry this file name (Jinja's default for templates made from strings).
TEMPLATE_FILENAME = "<template>"

# A printf conversion whose width or precision is huge or taken from the arguments (``*``).
_PRINTF_HUGE = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(?:\*|\d{6,}|\d*\.(?:\*|\d{6,}))")
_SPEC_HUGE = re.compile(r"\d{6,}")
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)

_state = threading.local()


class RenderTimeout(BaseException):
    """The deadline passed while rendering; a BaseException so that no ``except Exception`` swallows it."""


class TemplateTooCostly(ValueError):
    """An operation would build a value far larger than any template could need."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`RenderTimeout` inside the code run in this block once ``seconds`` have passed.

    A render nested inside another (a template rendering a template) keeps the outer deadline.
    """
    if getattr(_state, "active", False):
        yield
        return
    limit = time.monotonic() + seconds
    message = f"template rendering took longer than {seconds:g} s"

    def on_line(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > limit:
            raise RenderTimeout(message)
        return on_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > limit:
            raise RenderTimeout(message)
        return on_line if frame.f_code.co_filename == TEMPLATE_FILENAME else None

    previous = sys.gettrace()
    _state.active = True
    sys.settrace(on_call)
    try:
        yield
    finally:
        # Restores a debugger's or coverage's tracer; Python unsets ours anyway after it raises.
        sys.settrace(previous)
        _state.active = False


def checked_size(value: Any) -> Any:
    """``value`` itself unless it is a string or collection longer than :data:`MAX_VALUE`."""
    if isinstance(value, _SIZED) and len(value) > MAX_VALUE:
        raise TemplateTooCostly(f"a value longer than {MAX_VALUE} items")
    return value


def checked_multiply(left: Any, right: Any) -> Any:
    """``left * right``, refusing repetitions longer than :data:`MAX_VALUE`."""
    for sequence, count in ((left, right), (right, left)):
        repeats = isinstance(sequence, str | bytes | list | tuple) and isinstance(count, int)
        if repeats and len(sequence) * count > MAX_VALUE:
            raise TemplateTooCostly(f"repetition longer than {MAX_VALUE} items")
    return left * right


def checked_add(left: Any, right: Any) -> Any:
    """``left + right``, refusing concatenations longer than :data:`MAX_VALUE`."""
    if isinstance(left, _SIZED) and isinstance(right, _SIZED) and len(left) + len(right) > MAX_VALUE:
        raise TemplateTooCostly(f"concatenation longer than {MAX_VALUE} items")
    return left + right


def checked_power(base: Any, exponent: Any) -> Any:
    """``base ** exponent``, refusing integer results longer than :data:`MAX_POWER_DIGITS` digits."""
    integers = isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and exponent > 0
    if integers and exponent * math.log10(abs(base)) > MAX_POWER_DIGITS:
        raise TemplateTooCostly(f"power with more than {MAX_POWER_DIGITS} digits")
    return base**exponent


def checked_modulo(left: Any, right: Any) -> Any:
    """``left % right``, checking printf-style widths when ``left`` is a format string."""
    if isinstance(left, str):
        check_printf(left)
    return left % right


def check_format_spec(spec: str) -> None:
    """Refuse a ``str.format`` field spec (``>20``, ``.3f``) with a gigantic width or precision."""
    if _SPEC_HUGE.search(spec):
        raise TemplateTooCostly("format width or precision too large")


def check_printf(template: str) -> None:
    """Refuse a printf-style format string with a gigantic or argument-supplied width."""
    if _PRINTF_HUGE.search(template.replace("%%", "")):
        raise TemplateTooCostly("format width or precision too large (or given as *)")


def check_padding(method: Any, args: tuple[Any, ...]) -> None:
    """Refuse ``str.center/ljust/rjust/zfill/expandtabs`` asked for more than :data:`MAX_VALUE` characters."""
    padding = getattr(method, "__name__", None) in _PADDING_METHODS and isinstance(
        getattr(method, "__self__", None), str
    )
    if padding and any(isinstance(arg, int) and arg > MAX_VALUE for arg in args):
        raise TemplateTooCostly(f"padding wider than {MAX_VALUE} characters")

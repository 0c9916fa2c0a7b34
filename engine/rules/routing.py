"""Which route an alert takes: ordered routes, each a regex over the payload or a template condition.

Regex routes use ``re.search`` semantics (match anywhere), as Grafana OnCall does, over two texts of
the payload (see :func:`payload_text_forms`); a route matches when either text matches, so the source
article's ``.*severity=critical.*`` works for Grafana, Alertmanager and PagerDuty bodies alike.
Patterns are compiled with ``re.MULTILINE``, so ``^severity=critical$`` matches exactly one label line
(the JSON text is a single line, so nothing changes there).

Bounds, because the payload comes from outside while the pattern comes from an administrator:

* patterns are compiled once (cached) and patterns that nest unbounded quantifiers (``(a+)+``,
  ``(\\w*)*``), the classic exponential backtrackers, are refused by :func:`compile_routing_regex`;
* leading ``.*`` is dropped before searching: it cannot change whether ``re.search`` finds a match, but
  it makes a failed search quadratic in the line length (0.2 s for 20 KB of JSON, minutes for 1 MB);
* the JSON text is cut at :data:`MAX_JSON_TEXT` characters (objects' ``alerts`` last, so group fields
  stay inside), label lines at :data:`MAX_LABEL_LINE`, the label text at :data:`MAX_LABEL_TEXT`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.errors import NotFound, ValidationFailed
from engine.ports import TemplateRenderer

MAX_JSON_TEXT = 32 * 1024
MAX_LABEL_TEXT = 64 * 1024
MAX_LABEL_LINE = 1024
_TRUTHY_OUTPUTS = frozenset({"1", "true", "ok"})
# Label-like objects of each item in these arrays join the label text: alerts' labels, legacy Grafana's
# evalMatches' tags.
_ITEM_LABELS = {"alerts": "labels", "evalMatches": "tags"}


class RoutingType(StrEnum):
    REGEX = "regex"
    JINJA2 = "jinja2"


@dataclass(frozen=True)
class Route:
    """One route of an integration; ``routing_regex`` holds the pattern or, for ``jinja2``, the template."""

    id: str
    position: int = 0
    routing_type: RoutingType = RoutingType.REGEX
    routing_regex: str | None = None
    is_default: bool = False


@dataclass(frozen=True)
class PayloadText:
    """The payload as routing regexes see it."""

    json: str
    labels: str


class Headers(Mapping[str, str]):
    """Request headers looked up case-insensitively (``headers["X-Team"]`` and ``headers.get("x-team")``)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._items = {str(key).lower(): str(value) for key, value in headers.items()}

    def __getitem__(self, key: str) -> str:
        return self._items[str(key).lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def is_truthy_output(text: str) -> bool:
    """Whether a rendered condition counts as true: ``1``, ``true`` or ``ok``, any case, spaces ignored."""
    return text.strip().lower() in _TRUTHY_OUTPUTS


def payload_text_forms(payload: Any) -> PayloadText:
    """The payload as compact JSON and as ``key=value`` label text, one pair per line.

    The label text holds the top-level scalars, the scalar entries of top-level objects
    (``groupLabels``, ``commonLabels``, ``commonAnnotations``, ``labels``, ``tags``, PagerDuty's
    ``payload``) and the labels of every alert, each pair once, in that order. One pair per line keeps
    ``.`` from running across pairs, so ``severity=critical.*`` cannot be satisfied by ``severity=warning``
    next to another label's value, and keeps backtracking local to a line.
    """
    return PayloadText(json=_json_text(payload), labels=_label_text(payload))


@functools.lru_cache(maxsize=1024)
def compile_routing_regex(pattern: str) -> re.Pattern[str]:
    """Compile a routing regex for searching, or raise ``ValidationFailed`` saying why it is refused."""
    try:
        re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise ValidationFailed(
            f"routing_regex is not a valid regular expression: {exc}", field="routing_regex"
        ) from exc
    if _nests_unbounded_quantifiers(pattern):
        raise ValidationFailed(
            "routing_regex repeats a group that itself repeats without bound (like (a+)+), which can take "
            "exponential time; rewrite it without the nested repetition",
            field="routing_regex",
        )
    return re.compile(_without_leading_wildcards(pattern), re.MULTILINE)


def regex_matches(pattern: str, text: PayloadText) -> bool:
    """Whether ``pattern`` is found in either text form; raises ``ValidationFailed`` for a refused pattern."""
    compiled = compile_routing_regex(pattern)
    return compiled.search(text.labels) is not None or compiled.search(text.json) is not None


def choose_route(
    routes: Sequence[Route],
    payload: Any,
    headers: Mapping[str, str],
    renderer: TemplateRenderer,
    *,
    context: Mapping[str, Any] | None = None,
    on_error: Callable[[Route, ValidationFailed], None] | None = None,
) -> Route:
    """The first non-default route (by ``position``, ties in given order) that matches, else the default.

    A route whose pattern is refused or whose template fails does not match; ``on_error`` hears about it
    (for the incident timeline) and the alert goes on to the next route, so a broken route never loses
    an alert. Empty patterns and templates match nothing. Raises ``NotFound`` when nothing matches and
    the integration has no default route.
    """
    text: PayloadText | None = None
    template_context = {"payload": payload, "headers": Headers(headers), **(context or {})}
    for route in sorted((r for r in routes if not r.is_default), key=lambda r: r.position):
        condition = route.routing_regex or ""
        if not condition.strip():
            continue
        try:
            if route.routing_type == RoutingType.JINJA2:
                matched = is_truthy_output(renderer.render(condition, template_context))
            else:
                text = text or payload_text_forms(payload)
                matched = regex_matches(condition, text)
        except ValidationFailed as exc:
            if on_error is not None:
                on_error(route, exc)
            continue
        if matched:
            return route
    default = next((r for r in routes if r.is_default), None)
    if default is None:
        raise NotFound("no route matched and the integration has no default route")
    return default


def _json_text(payload: Any) -> str:
    if isinstance(payload, dict) and "alerts" in payload:
        payload = {**{k: v for k, v in payload.items() if k != "alerts"}, "alerts": payload["alerts"]}
    try:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
    except (RecursionError, TypeError, ValueError):
        return ""
    return text[:MAX_JSON_TEXT]


def _label_text(payload: Any) -> str:
    if not isinstance(payload, dict):
        return ""
    pairs: dict[str, None] = {}
    nested: list[Mapping[Any, Any]] = []
    for key, value in payload.items():
        if isinstance(value, dict):
            nested.append(value)
        elif not isinstance(value, list):
            pairs[_pair(key, value)] = None
    for mapping in nested:
        pairs.update((_pair(k, v), None) for k, v in mapping.items() if not isinstance(v, dict | list))
    for array_key, labels_key in _ITEM_LABELS.items():
        items = payload.get(array_key)
        for item in items if isinstance(items, list) else ():
            labels = item.get(labels_key) if isinstance(item, dict) else None
            if isinstance(labels, dict):
                pairs.update((_pair(k, v), None) for k, v in labels.items() if not isinstance(v, dict | list))
    return "\n".join(pairs)[:MAX_LABEL_TEXT]


def _pair(key: Any, value: Any) -> str:
    if isinstance(value, str):
        shown = value
    elif value is None:
        shown = ""
    else:
        shown = json.dumps(value)
    return " ".join(f"{key}={shown}".splitlines())[:MAX_LABEL_LINE]


def _without_leading_wildcards(pattern: str) -> str:
    # ``.*`` and ``.*?`` can match the empty string, so dropping them at the very start cannot change
    # whether ``search`` finds a match; a possessive ``.*+`` can and is kept.
    while match := re.match(r"\.\*\??", pattern):
        rest = pattern[match.end() :]
        if rest[:1] in ("+", "*", "?", "{"):
            break
        pattern = rest
    return pattern


def _nests_unbounded_quantifiers(pattern: str) -> bool:
    """Whether a group containing an unbounded quantifier is itself quantified without bound."""
    groups: list[bool] = []
    closed_group_unbounded = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        quantifier_end, unbounded = _quantifier_at(pattern, index)
        if quantifier_end > index:
            if unbounded and closed_group_unbounded:
                return True
            if unbounded and groups:
                groups[-1] = True
            closed_group_unbounded = False
            index = quantifier_end
            continue
        closed_group_unbounded = False
        if char == "\\":
            index += 2
        elif char == "[":
            index = _class_end(pattern, index)
        elif char == "(":
            groups.append(False)
            index += 1
        elif char == ")":
            inner = groups.pop() if groups else False
            if inner and groups:
                groups[-1] = True
            closed_group_unbounded = inner
            index += 1
        else:
            index += 1
    return False


def _quantifier_at(pattern: str, index: int) -> tuple[int, bool]:
    """The end of a quantifier starting at ``index`` (``index`` itself if none) and whether it is unbounded."""
    char = pattern[index]
    if char in "*+":
        end, unbounded = index + 1, True
    elif char == "?":
        end, unbounded = index + 1, False
    elif braces := re.match(r"\{(\d*)(,?)(\d*)\}", pattern[index:]):
        end, unbounded = index + braces.end(), bool(braces.group(2)) and not braces.group(3)
    else:
        return index, False
    if pattern[end : end + 1] in ("?", "+"):
        end += 1
    return end, unbounded


def _class_end(pattern: str, index: int) -> int:
    """The index just past the character class opening at ``index``."""
    index += 1
    if pattern[index : index + 1] == "^":
        index += 1
    if pattern[index : index + 1] == "]":
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index + 1

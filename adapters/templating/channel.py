"""Tocsin's own message templates, one folder per channel under the top-level ``templates/`` package.

These are not user-editable (those run in the sandbox in :mod:`adapters.templating.renderer`); they shape
what Tocsin itself sends. Escaping follows the channel: HTML for Telegram, XML for voice TwiML, none for
Slack mrkdwn and SMS (Slack templates escape with the ``mrkdwn`` filter).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

import templates

_ROOT = Path(templates.__file__).parent
_ESCAPED = {"telegram", "voice"}


def _mrkdwn(value: Any) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@cache
def _environment(channel: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_ROOT / channel),
        autoescape=channel in _ESCAPED,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["mrkdwn"] = _mrkdwn
    return env


def render_channel(channel: str, name: str, **context: Any) -> str:
    """Render ``templates/<channel>/<name>`` with ``context``; missing variables raise."""
    return _environment(channel).get_template(name).render(**context).strip()

"""Default templates per integration type (SPEC 4.1), used until an integration overrides them.

Keys: ``title``, ``message``, ``source_link``, ``grouping_key``, ``resolve_condition``,
``acknowledge_condition``. An empty grouping key means "use the parser's key" (a hash of the body for
plain webhooks, a generated key for a PagerDuty trigger without ``dedup_key``); an empty condition is
never true.
"""

from __future__ import annotations

from adapters.templating import group_defaults
from engine.errors import ValidationFailed

_LEGACY_GRAFANA = {
    "title": '{{ payload.ruleName or payload.title or "Grafana alert" }}',
    "message": """\
{%- set matches = payload.evalMatches if payload.evalMatches is sequence and payload.evalMatches is not string
    else [] -%}
State: {{ payload.state }}
{% if payload.message %}{{ payload.message }}
{% endif -%}
{% for match in matches[:10] %}- {{ match.metric }} = {{ match.value }}
{% endfor -%}
{% if matches | length > 10 %}…and {{ matches | length - 10 }} more
{% endif -%}
{% if payload.ruleUrl %}Rule: {{ payload.ruleUrl }}
{% endif -%}
{% if payload.imageUrl %}Image: {{ payload.imageUrl }}
{% endif -%}""",
    "source_link": "{{ payload.ruleUrl }}",
    "grouping_key": (
        "{{ payload.ruleId if payload.ruleId is defined and payload.ruleId is not none else payload.ruleName }}"
    ),
    "resolve_condition": '{{ payload.state | string | trim | lower == "ok" }}',
    "acknowledge_condition": "",
}

_RESOLVED_WORDS = '("resolved", "ok")'

_WEBHOOK = {
    "title": """\
{%- if payload is mapping -%}
{{ payload.title or payload.alert_name or payload.alertname or payload.name or payload.summary
   or payload.subject or "Webhook alert" }}
{%- elif payload is string or payload is number -%}{{ payload }}
{%- else -%}Webhook alert{%- endif -%}""",
    "message": """\
{%- if payload is mapping and (payload.message or payload.description or payload.text) -%}
{{ payload.message or payload.description or payload.text }}
{%- else -%}{{ payload | tojson_pretty }}{%- endif -%}""",
    "source_link": """\
{%- if payload is mapping -%}
{{ payload.link_to_upstream_details or payload.source_link or payload.link or payload.url }}
{%- endif -%}""",
    "grouping_key": "{# empty: plain webhooks group by a hash of the whole body #}",
    "resolve_condition": (
        "{{ payload is mapping and ((payload.status | string | trim | lower) in RESOLVED"
        " or (payload.state | string | trim | lower) in RESOLVED) }}"
    ).replace("RESOLVED", _RESOLVED_WORDS),
    "acknowledge_condition": "",
}

_FORMATTED_WEBHOOK = {
    "title": '{{ payload.title or (payload.message | string).partition("\\n")[0] or "Untitled alert" }}',
    "message": """\
{{ payload.message }}
{%- if payload.image_url %}

Image: {{ payload.image_url }}
{%- endif -%}""",
    "source_link": "{{ payload.link_to_upstream_details }}",
    "grouping_key": "{{ payload.alert_uid }}",
    "resolve_condition": (
        "{{ (payload.state | string | trim | lower) in RESOLVED or (payload.status | string | trim | lower) in RESOLVED }}"
    ).replace("RESOLVED", _RESOLVED_WORDS),
    "acknowledge_condition": "",
}

_PAGERDUTY = {
    "title": (
        "{{ payload.payload.summary"
        ' or "PagerDuty " ~ (payload.event_action | string | trim | lower) ~ ": " ~ payload.dedup_key }}'
    ),
    "message": """\
{%- set event = payload.payload if payload.payload is mapping else {} -%}
{%- set details = event.custom_details -%}
{% if event.summary %}{{ event.summary }}
{% endif -%}
{% for field in ["severity", "source", "component", "group", "class"] if event[field] -%}
{{ field | capitalize }}: {{ event[field] }}
{% endfor -%}
{% if details is mapping %}{% for key, value in details | dictsort %}{{ key }}: {{ value }}
{% endfor %}{% elif details %}{{ details }}
{% endif -%}
{% for item in (payload.links if payload.links is sequence and payload.links is not string else [])[:5]
   if item is mapping and item.href -%}
Link: {{ item.text ~ " " if item.text }}{{ item.href }}
{% endfor -%}""",
    "source_link": "{{ payload.client_url or payload.links[0].href }}",
    "grouping_key": "{{ payload.dedup_key }}",
    "resolve_condition": '{{ payload.event_action | string | trim | lower == "resolve" }}',
    "acknowledge_condition": '{{ payload.event_action | string | trim | lower == "acknowledge" }}',
}

_DEFAULTS = {
    "grafana_alerting": group_defaults.GRAFANA_ALERTING,
    "alertmanager": group_defaults.ALERTMANAGER,
    "grafana": _LEGACY_GRAFANA,
    "webhook": _WEBHOOK,
    "formatted_webhook": _FORMATTED_WEBHOOK,
    "pagerduty": _PAGERDUTY,
}

TEMPLATE_KEYS = (
    "title",
    "message",
    "source_link",
    "grouping_key",
    "resolve_condition",
    "acknowledge_condition",
)


def default_templates(type_name: str) -> dict[str, str]:
    """A fresh copy of the default templates for an integration type."""
    defaults = _DEFAULTS.get(type_name)
    if defaults is None:
        known = ", ".join(sorted(_DEFAULTS))
        raise ValidationFailed(f"unknown integration type {type_name!r}; known: {known}", field="type")
    return {key: defaults[key] for key in TEMPLATE_KEYS}

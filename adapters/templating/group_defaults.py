"""Default templates for Alertmanager-shaped payloads (Grafana unified alerting and Alertmanager).

They read the raw body (``payload``) and agree with ``adapters.inbound.alert_group``: the title is the
alertname with the other group labels (the common labels when the group has none), relative links are
resolved against ``externalURL``.
"""

from __future__ import annotations

# Alerts listed one by one in the default message; a group of thousands ends with "…and N more".
LISTED_ALERTS = 10

_PRELUDE = """\
{%- set alerts = payload.alerts if payload.alerts is sequence and payload.alerts is not string else [] -%}
{%- set gl = payload.groupLabels if payload.groupLabels is mapping else {} -%}
{%- set cl = payload.commonLabels if payload.commonLabels is mapping else {} -%}
{%- set ca = payload.commonAnnotations if payload.commonAnnotations is mapping else {} -%}
{%- macro link(url) -%}
{%- set url = url | string | trim if url is defined and url is not none else "" -%}
{%- if url.lower().startswith("http://") or url.lower().startswith("https://") -%}{{ url }}
{%- elif url and ":" not in url.split("/")[0] and payload.externalURL is string
      and payload.externalURL.lower().startswith("http") -%}
{{ payload.externalURL.rstrip("/") }}/{{ url.lstrip("/") }}
{%- endif -%}
{%- endmacro -%}
"""

TITLE = (
    _PRELUDE
    + """\
{%- set names = alerts | map(attribute="labels.alertname") | select | unique(case_sensitive=true) | list -%}
{%- set name = gl.alertname or cl.alertname or (names[:3] | join(", ")) -%}
{%- if names | length > 3 and not (gl.alertname or cl.alertname) -%}
{%- set name = name ~ " +" ~ (names | length - 3) ~ " more" -%}
{%- endif -%}
{%- set name = name or (payload.receiver | string | trim if payload.receiver else "") or "Alert" -%}
{%- set others = gl | dictsort(true) | rejectattr("0", "eq", "alertname") | map("join", "=") | list -%}
{%- set others = others or (cl | dictsort(true) | rejectattr("0", "eq", "alertname") | map("join", "=") | list) -%}
{{ name }}{% if others %} ({{ others | join(", ") }}){% endif %}"""
)

MESSAGE = (
    _PRELUDE
    + """\
{%- set resolved = alerts | selectattr("status", "eq", "resolved") | list | length -%}
Status: {{ payload.status or "firing" }}
{% if cl.severity %}Severity: {{ cl.severity }}
{% endif -%}
Alerts: {{ alerts | length - resolved }} firing, {{ resolved }} resolved
{%- if payload.truncatedAlerts %} ({{ payload.truncatedAlerts }} more not sent){% endif %}
{% if ca.summary %}Summary: {{ ca.summary }}
{% endif -%}
{% if ca.description %}Description: {{ ca.description }}
{% endif -%}
{% if ca.runbook_url %}Runbook: {{ link(ca.runbook_url) or ca.runbook_url }}
{% endif -%}
{% for alert in alerts[:LISTED] %}
{%- set labels = alert.labels if alert.labels is mapping else {} -%}
{%- set notes = alert.annotations if alert.annotations is mapping else {} -%}
{%- set own = labels | dictsort(true) | rejectattr("0", "in", cl) | rejectattr("0", "eq", "alertname") -%}
{%- set own = own | map("join", "=") | list %}
[{{ alert.status | default("firing", true) | upper }}] {{ labels.alertname or "Alert" }}
{%- if own %} ({{ own | join(", ") }}){% endif %}
{% if labels.severity and not cl.severity %}Severity: {{ labels.severity }}
{% endif -%}
{% if notes.summary and notes.summary != ca.summary %}Summary: {{ notes.summary }}
{% endif -%}
{% if notes.description and notes.description != ca.description %}Description: {{ notes.description }}
{% endif -%}
{% if notes.runbook_url and notes.runbook_url != ca.runbook_url %}Runbook: {{ notes.runbook_url }}
{% endif -%}
{% for label, url in [("Source", alert.generatorURL), ("Dashboard", alert.dashboardURL),
                      ("Panel", alert.panelURL), ("Silence", alert.silenceURL)] -%}
{% if link(url) %}{{ label }}: {{ link(url) }}
{% endif -%}
{% endfor -%}
{% endfor -%}
{% if alerts | length > LISTED %}
…and {{ alerts | length - LISTED }} more
{% endif -%}""".replace("LISTED", str(LISTED_ALERTS))
)

SOURCE_LINK = (
    _PRELUDE
    + """\
{%- set found = namespace(url="") -%}
{%- for alert in alerts if not found.url %}{% set found.url = link(alert.generatorURL) | string %}{% endfor -%}
{{ found.url or link(payload.externalURL) }}"""
)

GROUPING_KEY = "{{ payload.groupKey }}"

ALERTMANAGER = {
    "title": TITLE,
    "message": MESSAGE,
    "source_link": SOURCE_LINK,
    "grouping_key": GROUPING_KEY,
    "resolve_condition": '{{ payload.status | string | trim | lower == "resolved" }}',
    "acknowledge_condition": "",
}

GRAFANA_ALERTING = {
    **ALERTMANAGER,
    # Grafana also says ``state: ok`` once the whole group has recovered.
    "resolve_condition": (
        '{{ payload.status | string | trim | lower == "resolved" or payload.state | string | trim | lower == "ok" }}'
    ),
}

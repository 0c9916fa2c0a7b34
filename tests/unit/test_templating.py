"""The sandboxed renderer, its filters and limits, and the default templates on real payloads."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.inbound import parse
from adapters.templating import (
    TEMPLATE_KEYS,
    JinjaTemplateRenderer,
    default_templates,
    is_truthy_output,
    template_context,
)
from adapters.templating.filters import datetimeformat, iso8601_to_time
from engine.errors import ValidationFailed
from engine.ports import TemplateRenderer
from tests.support.fixtures import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES
SENDER_DIRS = {"grafana": "grafana_alerting", "alertmanager": "alertmanager", "grafana_legacy": "grafana"}
SENDER_DIRS["pagerduty"] = "pagerduty"
TYPES = ("grafana_alerting", "alertmanager", "grafana", "webhook", "formatted_webhook", "pagerduty")


@pytest.fixture(scope="module")
def renderer() -> JinjaTemplateRenderer:
    return JinjaTemplateRenderer()


def render(renderer: JinjaTemplateRenderer, template: str, **context: Any) -> str:
    return renderer.render(template, context)


def test_renderer_implements_the_engine_port(renderer: JinjaTemplateRenderer) -> None:
    port: TemplateRenderer = renderer
    assert port.render("{{ payload.a }}", {"payload": {"a": 1}}) == "1"


@pytest.mark.parametrize(
    ("template", "context", "expected"),
    [
        ("{{ payload | tojson }}", {"payload": {"b": "<é>", "a": [1, None]}}, '{"b": "<é>", "a": [1, null]}'),
        ("{{ payload.missing | tojson }}", {"payload": {}}, "null"),
        ("{{ payload | tojson_pretty }}", {"payload": {"a": 1}}, '{\n    "a": 1\n}'),
        ("{{ 'db-01.prod' | regex_replace('[.-]', '_') }}", {}, "db_01_prod"),
        ("{{ 'Disk FULL' | regex_replace('full', 'ok', ignorecase=true) }}", {}, "Disk ok"),
        ("{{ 'severity=critical' | regex_match('sev.*crit') }}", {}, "True"),
        ("{{ 'x severity=critical' | regex_match('sev') }}", {}, "False"),
        ("{{ 'x severity=critical' | regex_search('sev') }}", {}, "True"),
        ("{{ ('2022-06-17T01:11:00.782137894Z' | iso8601_to_time).minute }}", {}, "11"),
        ("{{ '2022-06-17T01:11:00Z' | datetimeformat }}", {}, "01:11 / 17-06-2022"),
        ("{{ '2022-06-17T03:11:00+02:00' | datetimeformat('%Y-%m-%d %H:%M') }}", {}, "2022-06-17 01:11"),
        ("{{ 'not a date' | datetimeformat }}", {}, ""),
        ("{{ 'aGVsbG8gd29ybGQ=' | b64decode }}", {}, "hello world"),
        ("{{ 'aGVsbG8' | b64decode }}", {}, "hello"),
        ("{{ '***' | b64decode }}", {}, ""),
        # None renders empty, missing chains are undefined rather than errors.
        ("[{{ payload.get('x') }}][{{ payload.a.b.c }}][{{ payload['a']['b'] }}]", {"payload": {}}, "[][][]"),
        ("{{ headers['X-Team'] }}/{{ headers.get('x-team') }}", {"headers": {"x-team": "db"}}, "db/db"),
    ],
)
def test_filters_and_context(
    renderer: JinjaTemplateRenderer, template: str, context: dict[str, Any], expected: str
) -> None:
    full = template_context(context.get("payload"), context.get("headers"))
    assert renderer.render(template, full) == expected


def test_filter_functions_directly() -> None:
    assert iso8601_to_time(1_700_000_000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert iso8601_to_time("0001-01-01T00:00:00Z") is None
    assert datetimeformat(datetime(2024, 1, 2, 3, 4, tzinfo=UTC), "%d/%m") == "02/01"


@pytest.mark.parametrize(
    ("text", "truthy"),
    [
        *[("1", True), ("true", True), (" True\n", True), ("OK", True), ("ok ", True)],
        *[("0", False), ("false", False), ("", False), ("yes", False), ("None", False), ("truest", False)],
    ],
)
def test_is_truthy_output(text: str, truthy: bool) -> None:
    assert is_truthy_output(text) is truthy


def test_template_context_holds_the_four_variables() -> None:
    context = template_context({"a": 1}, {"X-Team": "db"}, incident={"id": "I1"}, integration={"name": "P"})
    assert set(context) == {"payload", "headers", "incident", "integration"}
    assert context["headers"]["x-TEAM"] == "db"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ foo( }}", "syntax error on line 1"),
        ("line\n{% if %}", "syntax error on line 2"),
        ("{% for x in y %}", "syntax error"),
        ("{{ 1 / 0 }}", "ZeroDivisionError on line 1"),
        ("a\n{{ 'x' | regex_match('(') }}", "on line 2"),
        ("{{ 'x' * 10**9 }}", "repetition longer than"),
        ("{{ 10 ** 100000 }}", "power with more than"),
        ("{{ '%999999999d' % 1 }}", "format width"),
        ("{{ '{:>{}}'.format(1, 999999999) }}", "format width"),
        ("{{ 'x'.ljust(10**9) }}", "padding wider than"),
        ("{{ 'x' | center(10**9) }}", "width larger than"),
        ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "RecursionError"),
        ("{{ range(10**9) | list }}", "Range too big"),
    ],
)
def test_errors_become_validation_failures(
    renderer: JinjaTemplateRenderer, template: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        renderer.render(template, {"payload": {}})
    assert message in caught.value.detail
    assert caught.value.field == "template"


def test_sandbox_hides_python_internals(renderer: JinjaTemplateRenderer) -> None:
    # Reading a private attribute gives undefined; calling anything through one is refused.
    assert renderer.render("{{ ''.__class__.__mro__ }}{{ cycler.__init__.__globals__ }}", {}) == ""
    for probe in ["{{ payload.__class__.__subclasses__() }}", "{{ ''.__class__.__base__.__subclasses__() }}"]:
        with pytest.raises(ValidationFailed, match="not allowed in templates"):
            renderer.render(probe, {"payload": {}})


@pytest.mark.parametrize(
    "template",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% set x = j * 2 %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{{ range(100000) | sum }}{% endfor %}",
    ],
)
def test_runaway_loops_are_stopped_near_the_deadline(template: str) -> None:
    renderer = JinjaTemplateRenderer(max_seconds=0.2)
    started = time.monotonic()
    with pytest.raises(ValidationFailed, match=r"longer than 0\.2 s"):
        renderer.render(template, {})
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "joiner", ["ns.s ~ ns.s", "ns.s + ns.s", "[ns.s, ns.s] | join", "ns.s.replace('a', 'aa')"]
)
def test_doubling_a_string_stops_before_it_eats_memory(joiner: str, renderer: JinjaTemplateRenderer) -> None:
    template = "{% set ns = namespace(s='a') %}{% for i in range(60) %}{% set ns.s = JOIN %}{% endfor %}"
    started = time.monotonic()
    with pytest.raises(ValidationFailed, match="longer than 16777216"):
        renderer.render(template.replace("JOIN", joiner), {})
    assert time.monotonic() - started < 2.0


def test_time_limit_does_not_leak_to_the_caller() -> None:
    renderer = JinjaTemplateRenderer(max_seconds=0.05)
    with pytest.raises(ValidationFailed):
        renderer.render(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", {}
        )
    time.sleep(0.1)
    assert renderer.render("{{ 40 + 2 }}", {}) == "42"


def test_output_is_cut_at_the_limit_with_a_marker() -> None:
    renderer = JinjaTemplateRenderer(max_output=1000)
    output = renderer.render("{% for i in range(100000) %}{{ i }},{% endfor %}", {})
    assert len(output) == 1000 and output.endswith("…") and output.startswith("0,1,2,")
    assert renderer.render("{{ 'x' * 999 }}", {}) == "x" * 999


def test_default_output_limit_is_64_kib(renderer: JinjaTemplateRenderer) -> None:
    assert len(renderer.render("{{ 'x' * 100000 }}", {})) == 64 * 1024


def test_check_reports_syntax_without_rendering(renderer: JinjaTemplateRenderer) -> None:
    renderer.check("{{ payload.title }}")
    with pytest.raises(ValidationFailed, match="syntax error"):
        renderer.check("{{ payload.title")


def test_default_templates_exist_for_every_type_with_every_key() -> None:
    for type_name in TYPES:
        assert tuple(default_templates(type_name)) == TEMPLATE_KEYS
    with pytest.raises(ValidationFailed):
        default_templates("zabbix")


def sender_fixtures() -> list[tuple[str, Path]]:
    return [
        (kind, path)
        for folder, kind in SENDER_DIRS.items()
        for path in sorted((FIXTURES / folder).glob("*.json"))
    ]


@pytest.mark.parametrize(
    ("type_name", "path"), sender_fixtures(), ids=lambda value: getattr(value, "name", value)
)
def test_default_templates_agree_with_the_parser(
    renderer: JinjaTemplateRenderer, type_name: str, path: Path
) -> None:
    body = json.loads(path.read_text())
    parsed = parse(type_name, body, {})
    context = template_context(body, {})
    out = {key: renderer.render(template, context) for key, template in default_templates(type_name).items()}
    assert out["title"] == parsed.title
    assert out["source_link"] == (parsed.source_link or "")
    assert out["grouping_key"] == parsed.group_key
    assert is_truthy_output(out["resolve_condition"]) is (parsed.status.value == "resolved")
    assert is_truthy_output(out["acknowledge_condition"]) is (parsed.action.value == "acknowledge")


def grafana(name: str) -> Any:
    return json.loads((FIXTURES / "grafana" / name).read_text())


def test_default_message_lists_what_an_on_call_engineer_needs(renderer: JinjaTemplateRenderer) -> None:
    body = json.loads((FIXTURES / "alertmanager" / "am_0.25_live_capture_firing.json").read_text())
    message = renderer.render(default_templates("alertmanager")["message"], template_context(body))
    assert message == (
        "Status: firing\n"
        "Severity: critical\n"
        "Alerts: 2 firing, 0 resolved\n"
        "Summary: p99 latency above 2s\n"
        "\n"
        "[FIRING] HighLatency (instance=api-1)\n"
        "Runbook: https://runbooks.example/latency\n"
        "Source: http://prometheus.example/graph?g0.expr=x\n"
        "\n"
        "[FIRING] HighLatency (instance=api-2)\n"
    )


def test_default_message_shows_grafana_links_and_resolved_counts(renderer: JinjaTemplateRenderer) -> None:
    body = grafana("grafana_unified_mixed_firing_and_resolved.json")
    body["alerts"][2]["dashboardURL"] = "/d/abc"
    body["alerts"][2]["panelURL"] = "https://grafana.example.com/d/abc?viewPanel=2"
    message = renderer.render(default_templates("grafana_alerting")["message"], template_context(body))
    assert "Alerts: 1 firing, 2 resolved\n" in message
    assert "Runbook: https://example.com/\n" in message
    assert "[RESOLVED] Test alert (deploy=prod, instance=badhost.example.com, job=rabbitmq)\n" in message
    assert "Dashboard: https://grafana.example.com/d/abc\n" in message
    assert "Panel: https://grafana.example.com/d/abc?viewPanel=2\n" in message
    assert (
        "Silence: https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname"
        in message
    )


def test_thousands_of_alerts_render_only_the_first_ones(renderer: JinjaTemplateRenderer) -> None:
    body = grafana("grafana_unified_firing_3alerts_valuestring.json")
    body["alerts"] = body["alerts"] * 1000
    body["truncatedAlerts"] = 7
    message = renderer.render(default_templates("grafana_alerting")["message"], template_context(body))
    assert message.count("[FIRING]") == 10
    assert message.endswith("…and 2990 more\n")
    assert "Alerts: 3000 firing, 0 resolved (7 more not sent)\n" in message
    assert len(message) < 10_000


def test_plain_webhook_defaults_show_the_body(renderer: JinjaTemplateRenderer) -> None:
    templates = default_templates("webhook")
    context = template_context({"status": "OK", "detail": {"disk": "95%"}})
    assert renderer.render(templates["title"], context) == "Webhook alert"
    assert json.loads(renderer.render(templates["message"], context)) == {
        "status": "OK",
        "detail": {"disk": "95%"},
    }
    assert is_truthy_output(renderer.render(templates["resolve_condition"], context))
    assert renderer.render(templates["grouping_key"], context) == ""


def test_formatted_webhook_defaults(renderer: JinjaTemplateRenderer) -> None:
    templates = default_templates("formatted_webhook")
    body = {
        "alert_uid": "u1",
        "message": "db down\nsince 5 min",
        "state": "ok",
        "image_url": "https://i/x.png",
    }
    context = template_context(body)
    assert renderer.render(templates["title"], context) == "db down"
    assert renderer.render(templates["message"], context) == "db down\nsince 5 min\n\nImage: https://i/x.png"
    assert renderer.render(templates["grouping_key"], context) == "u1"
    assert is_truthy_output(renderer.render(templates["resolve_condition"], context))


def test_pagerduty_default_message(renderer: JinjaTemplateRenderer) -> None:
    body = json.loads((FIXTURES / "pagerduty" / "pd_events_v2_trigger.json").read_text())
    message = renderer.render(default_templates("pagerduty")["message"], template_context(body))
    assert message.splitlines() == [
        "Example alert on host1.example.com",
        "Severity: info",
        "Source: monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
        "Component: postgres",
        "Group: prod-datapipe",
        "Class: deploy",
        "load avg: 0.75",
        "ping time: 1500ms",
        "Link: Link text https://example.com/",
    ]

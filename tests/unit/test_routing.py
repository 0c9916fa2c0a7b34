"""Route choice: the source article's regex, template conditions on headers, order, defaults, bounds."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Mapping
from typing import Any

import pytest

from adapters.templating import JinjaTemplateRenderer
from engine.errors import NotFound, ValidationFailed
from engine.rules.routing import (
    MAX_JSON_TEXT,
    Headers,
    PayloadText,
    Route,
    RoutingType,
    choose_route,
    compile_routing_regex,
    payload_text_forms,
    regex_matches,
)
from tests.support.fixtures import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES
RENDERER = JinjaTemplateRenderer()

CRITICAL = Route(id="R-critical", position=0, routing_regex=".*severity=critical.*")
PAYMENTS = Route(
    id="R-payments",
    position=1,
    routing_type=RoutingType.JINJA2,
    routing_regex='{{ headers["X-Team"] == "payments" }}',
)
DEFAULT = Route(id="R-default", position=99, is_default=True)
ROUTES = (DEFAULT, PAYMENTS, CRITICAL)  # deliberately out of order


def fixture(path: str) -> Any:
    return json.loads((FIXTURES / path).read_text())


def with_severity(body: Any, severity: str) -> Any:
    """``body`` with every severity label (alerts, common labels) set to ``severity``."""
    body = copy.deepcopy(body)
    for labels in [body.get("commonLabels") or {}, *(a.get("labels") or {} for a in body.get("alerts", []))]:
        if "severity" in labels:
            labels["severity"] = severity
    return body


AM_FIRING = fixture("alertmanager/am_0.25_live_capture_firing.json")
GRAFANA_CRITICAL = fixture("grafana/grafana_oncall_integration_example_3alerts.json")
GRAFANA_NO_SEVERITY = fixture("grafana/grafana_unified_docs_firing_2alerts.json")
PD_TRIGGER = fixture("pagerduty/pd_events_v2_trigger.json")
LEGACY = fixture("grafana_legacy/grafana_legacy_alerting_evalmatch_tags.json")
ONE_CRITICAL_ALERT = copy.deepcopy(GRAFANA_NO_SEVERITY)
ONE_CRITICAL_ALERT["alerts"][1]["labels"]["severity"] = "critical"
PD_CRITICAL = copy.deepcopy(PD_TRIGGER)
PD_CRITICAL["payload"]["severity"] = "critical"


@pytest.mark.parametrize(
    ("case", "payload", "headers", "route_id"),
    [
        ("alertmanager critical", AM_FIRING, {}, "R-critical"),
        ("alertmanager warning", with_severity(AM_FIRING, "warning"), {}, "R-default"),
        ("grafana critical", GRAFANA_CRITICAL, {}, "R-critical"),
        ("grafana warning", with_severity(GRAFANA_CRITICAL, "warning"), {}, "R-default"),
        ("grafana without severity", GRAFANA_NO_SEVERITY, {}, "R-default"),
        ("one critical alert in a group", ONE_CRITICAL_ALERT, {}, "R-critical"),
        ("pagerduty info", PD_TRIGGER, {}, "R-default"),
        ("pagerduty critical", PD_CRITICAL, {}, "R-critical"),
        ("X-Team header", with_severity(AM_FIRING, "warning"), {"X-Team": "payments"}, "R-payments"),
        ("x-team lower-case header", GRAFANA_NO_SEVERITY, {"x-team": "payments"}, "R-payments"),
        ("other team", GRAFANA_NO_SEVERITY, {"X-Team": "search"}, "R-default"),
        ("critical wins by position", AM_FIRING, {"X-Team": "payments"}, "R-critical"),
        ("non-object body", ["severity=critical"], {}, "R-critical"),
        ("plain string body", "nothing to see", {}, "R-default"),
    ],
)
def test_choose_route(case: str, payload: Any, headers: dict[str, str], route_id: str) -> None:
    assert choose_route(ROUTES, payload, headers, RENDERER).id == route_id, case


@pytest.mark.parametrize(
    ("pattern", "payload", "matches"),
    [
        # The JSON form: written as it appears in the body.
        ('"team":"blue"', GRAFANA_NO_SEVERITY, True),
        ('"team":"red"', GRAFANA_NO_SEVERITY, False),
        ('"receiver":"hook"', AM_FIRING, True),
        # The label text: one pair per line, from alerts, common/group labels and top-level scalars.
        ("^instance=api-2$", AM_FIRING, True),
        ("^receiver=hook$", AM_FIRING, True),
        ("^summary=p99 latency above 2s$", AM_FIRING, True),
        ("instance=zeta\\.domain", LEGACY, True),
        ("^component=postgres$", PD_TRIGGER, True),
        ("^severity=critical.*instance", AM_FIRING, False),
        ("zone=(us|eu)-1", GRAFANA_NO_SEVERITY, True),
        ("(?i)SEVERITY=CRITICAL", AM_FIRING, True),
    ],
)
def test_regex_sees_both_text_forms(pattern: str, payload: Any, matches: bool) -> None:
    assert regex_matches(pattern, payload_text_forms(payload)) is matches


def test_text_forms_of_an_alertmanager_body() -> None:
    forms = payload_text_forms(AM_FIRING)
    lines = forms.labels.splitlines()
    assert lines[:2] == ["receiver=hook", "status=firing"]
    assert "severity=critical" in lines and "instance=api-1" in lines and "instance=api-2" in lines
    assert len(lines) == len(set(lines))
    assert json.loads(forms.json) == AM_FIRING
    assert list(json.loads(forms.json))[-1] == "alerts"
    reordered = {k: v for k, v in AM_FIRING.items() if k != "alerts"} | {"alerts": AM_FIRING["alerts"]}
    assert forms.json == json.dumps(reordered, separators=(",", ":"))


def test_label_text_keeps_one_pair_per_line_even_with_newlines_in_values() -> None:
    forms = payload_text_forms({"labels": {"note": "line one\nline two", "n": 3, "on": True, "x": None}})
    assert forms.labels.splitlines() == ["note=line one line two", "n=3", "on=true", "x="]


def test_text_is_capped_and_leading_wildcards_keep_huge_bodies_fast() -> None:
    body = {"alerts": [{"labels": {"severity": "warning", "blob": "x" * 100_000}} for _ in range(10)]}
    forms = payload_text_forms(body)
    assert len(forms.json) == MAX_JSON_TEXT
    assert max(len(line) for line in forms.labels.splitlines()) <= 1024
    started = time.monotonic()
    assert not regex_matches(".*severity=critical.*", forms)
    # Unstripped, the same search over the capped JSON alone takes about 0.7 s (quadratic).
    assert time.monotonic() - started < 0.1


@pytest.mark.parametrize(
    "pattern",
    [".*a", ".*?a", ".*.*a", ".*", ".*a|b", ".*(?<=x)a", ".*+a", ".*\\d{2}", ".*^a"],
)
@pytest.mark.parametrize("text", ["", "a", "xa", "b\na", "12", "\n", "za\nxb"])
def test_dropping_leading_wildcards_never_changes_the_answer(pattern: str, text: str) -> None:
    forms = PayloadText(json="", labels=text)
    assert regex_matches(pattern, forms) is (re.search(pattern, text, re.MULTILINE) is not None)


@pytest.mark.parametrize(
    ("pattern", "refused"),
    [
        ("(a+)+$", True),
        ("(a*)*", True),
        ("(\\w+\\s?)+$", True),
        ("((ab)+)+", True),
        ("(a+){2,}", True),
        ("(?:x|y+)*z", True),
        ("(a+){2,5}", False),
        ("(a|b)+", False),
        ("[(a+)]+", False),
        ("\\(a+\\)+", False),
        ("(a{1,3})+", False),
        ("(?P<sev>crit\\w*)", False),
        (".*severity=critical.*", False),
        ("severity=(critical|warning)", False),
    ],
)
def test_nested_unbounded_repetition_is_refused(pattern: str, refused: bool) -> None:
    if refused:
        with pytest.raises(ValidationFailed, match="exponential") as caught:
            compile_routing_regex(pattern)
        assert caught.value.field == "routing_regex"
    else:
        compile_routing_regex(pattern)


def test_invalid_regex_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationFailed, match="not a valid regular expression"):
        compile_routing_regex("severity=(critical")


class FailingRenderer:
    def render(self, template: str, context: Mapping[str, Any]) -> str:
        raise ValidationFailed("template error: boom", field="template")


def test_broken_routes_are_reported_and_skipped() -> None:
    routes = [
        Route(id="bad-regex", position=0, routing_regex="severity=(critical"),
        Route(id="bad-template", position=1, routing_type=RoutingType.JINJA2, routing_regex="{{ boom }}"),
        Route(id="nested", position=2, routing_regex="(a+)+"),
        Route(id="good", position=3, routing_regex="severity=critical"),
        DEFAULT,
    ]
    errors: list[tuple[str, str]] = []
    chosen = choose_route(
        routes,
        AM_FIRING,
        {},
        FailingRenderer(),
        on_error=lambda route, exc: errors.append((route.id, exc.field or "")),
    )
    assert chosen.id == "good"
    assert errors == [
        ("bad-regex", "routing_regex"),
        ("bad-template", "template"),
        ("nested", "routing_regex"),
    ]


def test_empty_conditions_match_nothing() -> None:
    routes = [
        Route(id="empty", routing_regex=""),
        Route(id="blank-jinja", routing_type=RoutingType.JINJA2),
        DEFAULT,
    ]
    assert choose_route(routes, AM_FIRING, {}, RENDERER).id == "R-default"


def test_jinja_condition_sees_payload_and_extra_context() -> None:
    route = Route(
        id="prod",
        routing_type=RoutingType.JINJA2,
        routing_regex='{{ payload.commonLabels.service == "api" and integration.name == "Prod" }}',
    )
    chosen = choose_route(
        [route, DEFAULT], AM_FIRING, {}, RENDERER, context={"integration": {"name": "Prod"}}
    )
    assert chosen.id == "prod"


def test_equal_positions_keep_the_given_order() -> None:
    first = Route(id="first", position=1, routing_regex="severity")
    second = Route(id="second", position=1, routing_regex="severity")
    assert choose_route([first, second, DEFAULT], AM_FIRING, {}, RENDERER).id == "first"
    assert choose_route([second, first, DEFAULT], AM_FIRING, {}, RENDERER).id == "second"


def test_no_match_and_no_default_is_not_found() -> None:
    with pytest.raises(NotFound):
        choose_route([PAYMENTS], AM_FIRING, {}, RENDERER)


def test_headers_are_case_insensitive() -> None:
    headers = Headers({"X-Team": "payments", "Content-Type": "application/json"})
    assert headers["x-team"] == headers["X-TEAM"] == "payments"
    assert headers.get("missing") is None and len(headers) == 2

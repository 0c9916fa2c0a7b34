"""Whatever a sender posts to any ingest route, the answer is never a 5xx (senders retry those forever)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.harness import harness, seed_team

TYPES = ("grafana_alerting", "alertmanager", "grafana", "webhook", "formatted_webhook", "pagerduty")
ROUTES = (*TYPES, "v2_enqueue", "heartbeat_get", "heartbeat_post")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["firing", "resolved", "ok", "alerting", "trigger", "acknowledge", "resolve", ""])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
labels = st.dictionaries(
    st.sampled_from(["alertname", "severity", "namespace", "instance", "summary"]) | st.text(max_size=8),
    json_values,
    max_size=4,
)
# Shaped like the senders' bodies, with any value in any field, to get past the first checks.
alert_shaped = st.fixed_dictionaries(
    {},
    optional={
        "status": json_values,
        "state": json_values,
        "groupKey": json_values,
        "groupLabels": labels | json_values,
        "commonLabels": labels | json_values,
        "commonAnnotations": labels,
        "externalURL": st.sampled_from(["http://am.example/", "/relative", "javascript:x"]) | json_values,
        "truncatedAlerts": json_values,
        "alerts": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "status": json_values,
                    "labels": labels | json_values,
                    "annotations": labels | json_values,
                    "fingerprint": json_values,
                    "startsAt": st.sampled_from(["2026-02-09T14:00:00Z", "0001-01-01T00:00:00Z", "bad"])
                    | json_values,
                    "generatorURL": json_values,
                },
            )
            | json_values,
            max_size=4,
        )
        | json_values,
        "event_action": json_values,
        "dedup_key": json_values,
        "payload": st.fixed_dictionaries({}, optional={"summary": json_values, "custom_details": json_values})
        | json_values,
        "links": json_values,
        "evalMatches": st.lists(st.fixed_dictionaries({}, optional={"tags": labels | json_values}))
        | json_values,
        "ruleId": json_values,
        "ruleName": json_values,
        "title": json_values,
        "message": json_values,
        "alert_uid": json_values,
        "labels": labels | json_values,
    },
)
escapes = st.lists(
    st.sampled_from(
        ['"', "\\u0000", "\\ud800", "\\udfff", "\\ud83d\\ude00", "\\", "NaN", "1e999", "-0", "[", "{", "}"]
    )
    | st.text(max_size=5),
    max_size=12,
).map(lambda parts: '{"title": "' + "".join(parts) + '"}')
bodies = (
    st.tuples(json_values | alert_shaped, st.booleans()).map(
        lambda v: json.dumps(v[0], ensure_ascii=v[1]).encode()
    )
    | escapes.map(lambda text: text.encode("utf-8", "surrogatepass"))
    | st.binary(max_size=200)
)
content_types = st.sampled_from(["application/json", "text/plain", None, "application/x-www-form-urlencoded"])


def test_no_body_on_any_ingest_route_gets_a_5xx(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        links = {t: h.ok("POST", "integrations/", {"type": t, "team_id": "T001"})["link"] for t in TYPES}
        paths = {t: "/" + link.split("://", 1)[1].split("/", 1)[1] for t, link in links.items()}
        pd_token = links["pagerduty"].rstrip("/").rsplit("/", 1)[1]

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(route=st.sampled_from(ROUTES), body=bodies, content_type=content_types, keyed=st.booleans())
        def post_anything(route: str, body: bytes, content_type: str | None, keyed: bool) -> None:
            headers = {"Content-Type": content_type} if content_type else {}
            if route == "v2_enqueue":
                if keyed:
                    body = _with_routing_key(body, pd_token)
                response = h.client.post("/v2/enqueue", content=body, headers=headers)
            elif route.startswith("heartbeat"):
                path = paths[TYPES[len(body) % len(TYPES)]] + "heartbeat/"
                response = h.client.request(
                    route.split("_")[1].upper(), path, content=body or None, headers=headers
                )
            else:
                response = h.client.post(paths[route], content=body, headers=headers)
            assert response.status_code < 500, (route, body[:200], response.text[:300])
            assert response.headers["content-type"].startswith("application/json")
            # Whatever went in, the engine's jobs must run too.
            h.queue.run_due()

        post_anything()


def _with_routing_key(body: bytes, token: str) -> bytes:
    try:
        value: Any = json.loads(body)
    except ValueError:
        return body
    if isinstance(value, dict):
        value["routing_key"] = token
        return json.dumps(value).encode()
    return body

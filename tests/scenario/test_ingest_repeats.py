"""Retries and repeat notifications: an identical body is a retry for 10 minutes, a repeat after that.

Alertmanager and Grafana send the same body again every repeat_interval while an alert fires. Someone
who resolves the incident by hand while the source still fires must hear about it again at the next
repeat, instead of the body being taken for a retry forever.
"""

from __future__ import annotations

import json

from tests.support.escalation import chain, integration, person, sent
from tests.support.harness import Harness, harness

BODY = json.dumps({"title": "disk full on db-1", "status": "firing", "key": "disk-db-1"})


def post(h: Harness, link: str) -> dict[str, str]:
    response = h.post_alert(link, BODY)
    assert response.status_code == 200, response.text
    answer: dict[str, str] = response.json()
    return answer


def test_a_repeat_after_a_manual_resolve_opens_a_new_incident(database_url: str) -> None:
    with harness(database_url) as h:
        a = person(h, 1)
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        link = integration(h, "E001")["link"]
        first = post(h, link)
        assert first["status"] == "created"
        assert post(h, link) == {**first, "status": "duplicate"}  # the sender's retry
        h.queue.advance(60)
        h.ok("POST", f"incidents/{first['incident_id']}/resolve/")

        h.queue.advance(5 * 60)
        assert post(h, link)["status"] == "duplicate"  # still inside the retry window

        h.queue.advance(5 * 60)  # 11 minutes after the first delivery: a repeat notification
        repeat = post(h, link)
        assert repeat["status"] == "created" and repeat["incident_id"] != first["incident_id"]
        h.queue.advance(1)
        assert [s[1:] for s in sent(h, repeat["incident_id"])] == [(a, "console", "page")]
        assert post(h, link) == {**repeat, "status": "duplicate"}  # the window starts again
        assert h.ok("GET", "incidents/")["count"] == 2


def test_a_repeat_while_the_incident_is_open_stays_a_duplicate(database_url: str) -> None:
    with harness(database_url) as h:
        a = person(h, 1)
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        link = integration(h, "E001")["link"]
        first = post(h, link)
        h.queue.advance(4 * 3600)  # Alertmanager's default repeat_interval
        assert post(h, link) == {**first, "status": "duplicate"}
        assert h.ok("GET", "incidents/")["count"] == 1
        assert len([s for s in sent(h) if s[3] == "page"]) == 1  # nobody paged again

"""MTTA/MTTR and friends (SPEC §4.9) against numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.escalation import chain, fire, integration, person
from tests.support.harness import harness


def test_stats_match_hand_computed_numbers(database_url: str) -> None:
    with harness(database_url) as h:
        h.clock.set(datetime(2026, 2, 1, 10, 0, tzinfo=UTC))
        a, b = person(h, 1), person(h, 2)
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 60},
                {"type": "notify_persons", "persons": [b]},
            ],
        )
        link = integration(h, "E001")["link"]

        one = fire(h, link, "one")  # Feb 1 10:00: ack +30 s, resolve +600 s, not escalated
        h.queue.advance(30)
        h.ok("POST", f"incidents/{one}/acknowledge/")
        h.queue.advance(570)
        h.ok("POST", f"incidents/{one}/resolve/")

        h.clock.set(datetime(2026, 2, 1, 12, 0, tzinfo=UTC))
        two = fire(h, link, "two")  # Feb 1 12:00: B paged at +60 s, ack +120 s, resolve +1200 s
        h.queue.advance(120)
        h.ok("POST", f"incidents/{two}/acknowledge/")
        h.queue.advance(1080)
        h.ok("POST", f"incidents/{two}/resolve/")

        h.clock.set(datetime(2026, 2, 2, 9, 0, tzinfo=UTC))
        three = fire(h, link, "three")  # Feb 2 09:00: never acked, B paged at +60 s, resolve +300 s
        h.queue.advance(300)
        h.ok("POST", f"incidents/{three}/resolve/")

        stats = h.ok("GET", "incidents/stats/", params={"from": "2026-02-01", "to": "2026-02-03"})
        assert stats["mtta_seconds"] == 75.0  # (30 + 120) / 2, the unacknowledged one left out
        assert stats["mttr_seconds"] == 700.0  # (600 + 1200 + 300) / 3
        assert stats["incidents_total"] == 3
        assert stats["incidents_per_day"] == [
            {"date": "2026-02-01", "count": 2},
            {"date": "2026-02-02", "count": 1},
            {"date": "2026-02-03", "count": 0},
        ]
        assert stats["escalation_frequency"] == round(2 / 3, 4)
        assert stats["by_team"][0]["team_id"] == "T001"
        assert stats["by_team"][0]["incidents_total"] == 3

        # Day buckets follow the asked time zone: 09:00Z on Feb 2 is still Feb 2 in Tokyo, but
        # 10:00Z and 12:00Z on Feb 1 are 19:00 and 21:00 there.
        tokyo = h.ok(
            "GET",
            "incidents/stats/",
            params={"from": "2026-02-01", "to": "2026-02-02", "time_zone": "Asia/Tokyo"},
        )
        assert [d["count"] for d in tokyo["incidents_per_day"]] == [2, 1]
        bad = h.api(
            "GET",
            "incidents/stats/",
            params={"from": "2026-02-01", "to": "2026-02-02", "time_zone": "Mars/Base"},
        )
        assert bad.status_code == 422
        assert bad.json()["field"] == "time_zone"
        # A datetime counts by its date; anything else is a clear 400.
        same = h.ok(
            "GET", "incidents/stats/", params={"from": "2026-02-01T00:00:00Z", "to": "2026-02-03T23:00:00Z"}
        )
        assert same["incidents_total"] == stats["incidents_total"] == 3
        nonsense = h.api("GET", "incidents/stats/", params={"from": "yesterday", "to": "2026-02-03"})
        assert nonsense.status_code == 400 and "from must be a date" in nonsense.json()["detail"]

"""/metrics speaks Prometheus text format, parsed back with prometheus-client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.support.escalation import chain, fire, integration, person
from tests.support.harness import harness


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_after_an_incident(sqlite_url: str) -> None:
    with harness(sqlite_url, metrics_token="scrape-me") as h:
        a = person(h, 1)
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        source = integration(h, "E001")
        incident = fire(h, source["link"])
        h.queue.advance(90)
        h.ok("POST", f"incidents/{incident}/acknowledge/")
        assert h.client.get("/metrics").status_code == 401
        response = h.client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert response.status_code == 200
        samples = _samples(response.text)
        labels = (("integration", source["id"]), ("state", "acknowledged"), ("team", "T001"))
        assert samples[("tocsin_incidents_total", labels)] == 1
        assert samples[("tocsin_notifications_total", (("channel", "console"), ("status", "sent")))] >= 1
        assert samples[("tocsin_incident_response_seconds_bucket", (("le", "60.0"),))] == 0
        assert samples[("tocsin_incident_response_seconds_bucket", (("le", "120.0"),))] == 1
        assert samples[("tocsin_incident_response_seconds_sum", ())] == 90.0
        assert samples[("tocsin_ingest_requests_total", (("outcome", "200"), ("type", "webhook")))] == 1
        assert ("tocsin_queue_depth", ()) in samples

"""Runbook links on Telegram cards: Telegram refuses a URL button it does not like, and that must never
cost the whole card."""

from __future__ import annotations

import json

import pytest

from tests.fakes.telegram_api import visible_text
from tests.support.escalation import chain, person
from tests.support.telegram import GROUP, TelegramHarness, buttons, telegram_harness


def _post(th: TelegramHarness, runbook: str) -> None:
    h = th.h
    link = h.ok(
        "POST",
        "integrations/",
        {
            "type": "alertmanager",
            "name": "AM",
            "team_id": "T001",
            "default_route": {"escalation_chain_id": "E001"},
        },
    )["link"]
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "status": "firing",
        "receiver": "tocsin",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.local",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": "db-1"},
                "annotations": {"summary": "disk full on db-1", "runbook_url": runbook},
                "startsAt": "2026-12-04T07:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "0000000000000001",
            }
        ],
    }
    response = h.post_alert(link, json.dumps(body))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("runbook", ["http://wiki/runbooks/disk-full", "http://localhost:8080/runbooks/disk"])
def test_an_intranet_runbook_link_does_not_stop_the_card(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, runbook: str
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        person(th.h, 1, [{"type": "sms"}])
        th.h.ok("PATCH", "teams/T001/", {"telegram_chat_id": str(GROUP)})
        chain(th.h, [{"type": "notify_persons", "persons": ["U001"]}])
        _post(th, runbook)
        th.h.queue.advance(30)
        [card] = th.cards(GROUP)
        assert [label for label, _ in buttons(card)][:2] == ["Acknowledge", "Resolve"]
        assert runbook in visible_text(card.text, card.parse_mode)  # still there, to copy


def test_a_public_runbook_link_is_a_button(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        person(th.h, 1, [{"type": "sms"}])
        th.h.ok("PATCH", "teams/T001/", {"telegram_chat_id": str(GROUP)})
        chain(th.h, [{"type": "notify_persons", "persons": ["U001"]}])
        _post(th, "https://wiki.example.com/runbooks/disk")
        th.h.queue.advance(30)
        [card] = th.cards(GROUP)
        assert ("Runbook", "https://wiki.example.com/runbooks/disk") in buttons(card)

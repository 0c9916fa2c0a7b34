"""`tocsin apply`: idempotent config as code; an invalid file is rejected whole, naming line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.config.apply import ApplyError, apply_text
from tests.support.harness import harness

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_applies_then_is_unchanged(database_url: str) -> None:
    text = (ROOT / "examples" / "quickstart.yaml").read_text()
    with harness(database_url) as h:
        first = apply_text(h.runtime, text)
        assert [c.line() for c in first][:2] == ["+ team T001", "+ user U001"]
        assert {c.action for c in first} == {"create"}
        second = apply_text(h.runtime, text)
        assert {c.action for c in second} == {"unchanged"}
        users = h.ok("GET", "users/")
        assert users["count"] == 3
        channels = h.ok("GET", "users/U001/notification_channels/")
        assert [c["type"] for c in channels["notification_channels"]] == [
            "slack",
            "telegram",
            "sms",
            "phone_call",
        ]
        integration = h.ok("GET", "integrations/I001/")
        assert integration["default_route"]["escalation_chain_id"] == "E001"

        changed = apply_text(h.runtime, text.replace("name: Bob Example", "name: Robert Example"))
        assert [c.line() for c in changed if c.action == "update"] == ["~ user U002 (name)"]


def test_prune_deletes_objects_missing_from_the_file(sqlite_url: str) -> None:
    text = (ROOT / "examples" / "quickstart.yaml").read_text()
    with harness(sqlite_url) as h:
        apply_text(h.runtime, text)
        h.ok("POST", "teams/", {"id": "T999", "name": "Stray"})
        kept = apply_text(h.runtime, text)
        assert h.api("GET", "teams/T999/").status_code == 200
        assert all(c.action == "unchanged" for c in kept)
        pruned = apply_text(h.runtime, text, prune=True)
        assert [c.line() for c in pruned if c.action == "delete"] == ["- team T999"]
        assert h.api("GET", "teams/T999/").status_code == 404


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("teams:\n  - id: T1\n    name: [unclosed\n", "not valid YAML"),
        (
            "teams:\n  - id: T1\n    name: A\n    colour: red\n",
            "line 4: teams[0].colour: Extra inputs are not permitted",
        ),
        ("users:\n  - id: U1\n    name: A\n    username: 5\n", "line 4: users[0].username"),
        (
            "teams:\n  - id: T1\n    name: A\n  - id: T1\n    name: B\n",
            "line 4: teams[1].id: duplicate id 'T1'",
        ),
        ("teams:\n  - name: A\n", "line 2: teams[0]: needs an id"),
        ("widgets: []\n", "line 1: widgets: unknown section"),
        (
            "teams:\n  - id: T1\n    name: A\nusers:\n  - id: U1\n    name: B\n    username: b\n    team_ids: [T404]\n",
            "line 8: users[0].team_ids[0]: team 'T404' does not exist",
        ),
    ],
)
def test_invalid_files_apply_nothing(sqlite_url: str, text: str, expected: str) -> None:
    with harness(sqlite_url) as h:
        with pytest.raises(ApplyError) as error:
            apply_text(h.runtime, text)
        assert expected in str(error.value)
        assert h.ok("GET", "teams/")["count"] == 0

"""Every request from Twilio is checked against TOCSIN_PUBLIC_URL + path; a bad one changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from tests.fakes.twilio_api import sign_twilio_request
from tests.support.escalation import chain, fire, integration, person
from tests.support.twilio import SMS, deliveries, public, state, twilio_harness


def _form(fixtures_dir: Path, name: str) -> list[tuple[str, str]]:
    return parse_qsl((fixtures_dir / "twilio" / name).read_text().strip(), keep_blank_values=True)


def test_signature_vectors_with_the_validator_tocsin_uses(fixtures_dir: Path) -> None:
    vectors = json.loads((fixtures_dir / "twilio" / "twilio_signature_vectors.json").read_text())["vectors"]
    checked = 0
    for vector in vectors:
        params = vector.get("params")
        signature = vector.get("header_signature") or vector.get("expected_signature")
        if not isinstance(params, dict) or not signature or "expected_valid" not in vector:
            continue
        validator = RequestValidator(vector["auth_token"])
        assert validator.validate(vector["url"], params, signature) is vector["expected_valid"], vector[
            "name"
        ]
        checked += 1
    assert checked >= 2


def test_bad_or_missing_signature_is_403_and_changes_nothing(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        [message] = fake.messages()
        url = public(h, "/twilio/sms")
        params = {"From": "+15555550101", "Body": "ack 1", "MessageSid": "SM" + "0" * 32}
        forged = sign_twilio_request("not-the-auth-token", url, params)
        assert h.client.post(url, data=params, headers={"X-Twilio-Signature": forged}).status_code == 403
        assert h.client.post(url, data=params).status_code == 403
        # Signed for the URL this process sees rather than the public one.
        seen = sign_twilio_request(fake.auth_token, "http://testserver/twilio/sms", params)
        sent_to = h.client.post(
            "http://testserver/twilio/sms", data=params, headers={"X-Twilio-Signature": seen}
        )
        assert sent_to.status_code == 403
        # A signature over other parameters (a tampered body).
        good = sign_twilio_request(fake.auth_token, url, params)
        tampered = {**params, "Body": "resolve 1"}
        assert h.client.post(url, data=tampered, headers={"X-Twilio-Signature": good}).status_code == 403
        status = {"MessageSid": message.sid, "MessageStatus": "failed", "ErrorCode": "30007"}
        bad_status = sign_twilio_request("nope", public(h, "/twilio/sms/status"), status)
        response = h.client.post(
            public(h, "/twilio/sms/status"), data=status, headers={"X-Twilio-Signature": bad_status}
        )
        assert response.status_code == 403
        assert state(h, incident) == "firing"
        assert [d.status for d in deliveries(h, "sms")] == ["sent"]


def test_signed_public_url_is_accepted_behind_a_proxy(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url, public_url="https://tocsin.example.com/") as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        assert fake.messages()[0].params["StatusCallback"] == "https://tocsin.example.com/twilio/sms/status"
        # Delivered to http://testserver (as a TLS proxy would), signed over the public https URL.
        reply = fake.send_inbound_sms(
            "https://tocsin.example.com/twilio/sms", from_="+15555550101", body="ack", via="http://testserver"
        )
        assert reply.status_code == 200
        assert state(h, incident) == "acknowledged"


def test_fixture_status_callbacks(sqlite_url: str, fixtures_dir: Path) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        [message] = fake.messages()
        url = public(h, "/twilio/sms/status")
        invalid = _form(fixtures_dir, "twilio_sms_status_invalid.form")
        assert fake.post_webhook(url, invalid).status_code == 400
        failed = [
            (k, message.sid if k in ("MessageSid", "SmsSid") else v)
            for k, v in _form(fixtures_dir, "twilio_sms_status_failed_30007.form")
        ]
        assert fake.post_webhook(url, failed).status_code == 204
        [row] = deliveries(h, "sms")
        assert row.status == "failed" and "30007" in (row.error or "")


@pytest.mark.parametrize("name", ["twilio_voice_status_busy.form", "twilio_voice_status_completed.form"])
def test_fixture_call_status_for_an_unknown_call_is_ignored(
    sqlite_url: str, fixtures_dir: Path, name: str
) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        response = fake.post_webhook(public(h, "/twilio/voice/status"), _form(fixtures_dir, name))
        assert response.status_code == 204


def test_a_partially_delivered_sms_counts_as_delivered(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        [message] = fake.messages()
        partial = [("MessageSid", message.sid), ("MessageStatus", "partially_delivered")]
        assert fake.post_webhook(public(h, "/twilio/sms/status"), partial).status_code == 204
        [row] = deliveries(h, "sms")
        assert row.status == "delivered"

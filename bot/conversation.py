"""The conversation every chat shares: inputs in, replies out, engine services in between.

``Conversation.handle`` never calls an SDK; adapters deliver its :class:`Reply` values. Engine errors
become friendly answers ("cannot acknowledge incident #12: it is acknowledged by Ana at …").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot import commands as c
from bot.actions import Action, ActionKind, keypad_action
from bot.duration import format_duration
from bot.help import HELP_TEXT, UNLINKED
from bot.inbound import ButtonPressed, ChatIdentity, CommandInvoked, Inbound, KeypadInput, Reply, TextReply
from engine.db import User
from engine.errors import TocsinError
from engine.services import identities, incidents, lookup, oncall, paging, schedules, webhooks
from engine.services.deps import Deps
from engine.services.incidents import Actor

PHONE_CHANNELS = ("sms", "phone_call")
# What to type, for the answer to a command that named no incident.
_EXAMPLES = {
    "acknowledge": "ack 12",
    "unacknowledge": "unack 12",
    "resolve": "resolve 12",
    "silence": "silence 12 1h",
    "unsilence": "unsilence 12",
}
LIST_MAX = 10  # incidents listed by `incidents`


@dataclass(frozen=True)
class Person:
    """A linked Tocsin user, as the conversation needs them."""

    id: str
    name: str
    team_ids: tuple[str, ...]


class Conversation:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # -- identity ---------------------------------------------------------------------------------

    def person(self, identity: ChatIdentity) -> Person | None:
        with self.deps.db.unit() as uow:
            user = identities.find_user(uow.session, identity.provider.value, identity.user_id)
            return _person(user) if user else None

    def handle(self, inbound: Inbound) -> list[Reply]:
        if isinstance(inbound, CommandInvoked):
            return self._command(inbound.identity, inbound.command, inbound.text)
        if isinstance(inbound, ButtonPressed):
            return self._button(inbound)
        if isinstance(inbound, TextReply):
            return self._command(inbound.identity, c.parse(inbound.text, sms=True), inbound.text)
        if isinstance(inbound, KeypadInput):
            return self._keypad(inbound)
        return []

    # -- commands ---------------------------------------------------------------------------------

    def _command(self, identity: ChatIdentity, command: c.ParseResult, text: str) -> list[Reply]:
        if isinstance(command, c.NotForMe):
            return []
        if isinstance(command, c.Unknown | c.Malformed):
            return [Reply(command.message, ephemeral=True)]
        if isinstance(command, c.Help):
            return [Reply(HELP_TEXT, ephemeral=True)]
        if isinstance(command, c.Link):
            return [self._link(identity, command.code)]
        person = self.person(identity)
        if person is None:
            return [Reply(UNLINKED.format(provider=identity.provider.value), ephemeral=True)]
        actor = Actor(person.name, identity.provider.value, person.id)
        match command:
            case c.Ack(number=n):
                return self._act(
                    identity,
                    person,
                    n,
                    "acknowledge",
                    lambda ref: incidents.acknowledge(self.deps, ref, actor),
                )
            case c.Unack(number=n):
                return self._act(
                    identity,
                    person,
                    n,
                    "unacknowledge",
                    lambda ref: incidents.unacknowledge(self.deps, ref, actor),
                )
            case c.Resolve(number=n, note=note):
                return self._act(
                    identity, person, n, "resolve", lambda ref: incidents.resolve(self.deps, ref, actor, note)
                )
            case c.Silence(number=n, seconds=seconds):
                return self._act(
                    identity,
                    person,
                    n,
                    "silence",
                    lambda ref: incidents.silence(self.deps, ref, actor, seconds),
                )
            case c.Unsilence(number=n):
                return self._act(
                    identity, person, n, "unsilence", lambda ref: incidents.unsilence(self.deps, ref, actor)
                )
            case c.Incidents():
                return [self._incidents(person)]
            case c.Who(schedule=schedule):
                return [self._who(person, schedule)]
            case c.Page(target=target, message=message):
                return [self._page(person, actor, target, message)]
            case c.Override(schedule=schedule, seconds=seconds):
                return [self._override(person, schedule, seconds)]
            case c.Test(integration=name):
                return [self._test(person, name)]
            case c.OptOut() | c.OptIn():
                return [Reply("Noted.", ephemeral=True)]
        return [Reply("That command is not available here yet; try `help`.", ephemeral=True)]

    def _test(self, person: Person, name: str) -> Reply:
        """`test <integration>`: a realistic alert through the real path, as the article's monthly drill."""
        if self.deps.test_alert is None:
            return Reply("Test alerts are not available here.", ephemeral=True)
        with self.deps.db.unit() as uow:
            found = lookup.find_integration(uow.session, name, person.team_ids)
            if found is None:
                return Reply(
                    f"No integration named {name!r} in your teams; use its name or id, e.g. `test {name}`.",
                    ephemeral=True,
                )
            integration_id, integration_name = found.id, found.name or found.id
        try:
            incident_id = self.deps.test_alert(integration_id)
        except TocsinError as exc:
            return Reply(f"Test alert for {integration_name} failed: {exc.detail}", ephemeral=True)
        if incident_id is None:
            return Reply(
                f"Test alert for {integration_name} was accepted but opened no incident.", ephemeral=True
            )
        with self.deps.db.unit() as uow:
            number = incidents.find(uow.session, incident_id).number
        return Reply(
            f"{person.name} sent a test alert to {integration_name}: incident #{number} (marked test) "
            "pages and escalates like a real one. Acknowledge and resolve it to finish the drill."
        )

    def _act(
        self,
        identity: ChatIdentity,
        person: Person,
        number: int | None,
        verb: str,
        action: Callable[[str], object],
    ) -> list[Reply]:
        ref = str(number) if number is not None else self._latest_for(person)
        if ref is None:
            example = _EXAMPLES.get(verb, f"{verb} 12")
            return [Reply(f"{verb} which incident? Add its number, e.g. `{example}`.", ephemeral=True)]
        try:
            action(ref)
        except TocsinError as exc:
            return [Reply(exc.detail, ephemeral=True)]
        with self.deps.db.unit() as uow:
            incident = incidents.find(uow.session, ref)
            number_text, incident_id, state = incident.number, incident.id, incident.state
        done = {
            "acknowledge": "acknowledged",
            "unacknowledge": "unacknowledged",
            "resolve": "resolved",
            "silence": "silenced",
            "unsilence": "unsilenced",
        }[verb]
        return [Reply(f"#{number_text} {done} by {person.name} ({state}).", refresh_card=incident_id)]

    def _latest_for(self, person: Person) -> str | None:
        with self.deps.db.unit() as uow:
            incident = lookup.latest_paged_incident(
                uow.session, person.id, (*PHONE_CHANNELS, "slack", "telegram")
            )
            return incident.id if incident else None

    def _incidents(self, person: Person) -> Reply:
        teams = list(person.team_ids) or None
        with self.deps.db.unit() as uow:
            rows = lookup.open_incidents(uow.session, teams, limit=LIST_MAX + 1)
            lines = [f"#{i.number} [{i.state}] {i.title}" for i in rows[:LIST_MAX]]
            if len(rows) > LIST_MAX:
                # A storm is when this list matters most: never let the first ten read as all of them.
                total = lookup.count_open_incidents(uow.session, teams)
                lines.insert(0, f"{total} open incidents; the {LIST_MAX} newest:")
        return Reply("\n".join(lines) if lines else "No open incidents. 🎉", ephemeral=True)

    def _who(self, person: Person, schedule_ref: str | None) -> Reply:
        now = self.deps.clock.now()
        with self.deps.db.unit() as uow:
            schedule = lookup.find_schedule(uow.session, schedule_ref, list(person.team_ids))
            if schedule is None:
                missing = (
                    f"No schedule named {schedule_ref!r}." if schedule_ref else "Your team has no schedule."
                )
                return Reply(missing, ephemeral=True)
            ids = oncall.oncall_user_ids(uow.session, schedule.id, now) or []
            names = lookup.user_names(uow.session, ids)
            label = schedule.name
        if not names:
            return Reply(f"Nobody is on call in {label} right now.", ephemeral=True)
        return Reply(f"On call in {label} now: {', '.join(names)}.", ephemeral=True)

    def _page(self, person: Person, actor: Actor, target: c.PageTarget, message: str) -> Reply:
        with self.deps.db.unit() as uow:
            session = uow.session
            responders: list[paging.Responder] = []
            team_id = None
            if target.kind is c.TargetKind.USER_ID:
                user = identities.find_user(session, "slack", target.value)
                if user is None:
                    return Reply(f"{target.label or target.value} is not linked to Tocsin.", ephemeral=True)
                responders.append(paging.Responder(user.id, important=True))
            elif target.kind is c.TargetKind.USERNAME:
                user = lookup.user_by_username(session, target.value)
                if user is None:
                    return Reply(f"No Tocsin user @{target.value.lstrip('@')}.", ephemeral=True)
                responders.append(paging.Responder(user.id, important=True))
            else:
                team = lookup.team_by_name(session, target.value)
                if team is None:
                    return Reply(f"No team named {target.value!r}.", ephemeral=True)
                team_id = team.id
        title = message.strip() or f"Page from {person.name}"
        try:
            incident = paging.page(self.deps, title[:200], message, actor, team_id, responders)
        except TocsinError as exc:
            return Reply(exc.detail, ephemeral=True)
        return Reply(f"Paged: incident #{incident.number} {incident.title}", refresh_card=incident.id)

    def _override(self, person: Person, schedule_ref: str, seconds: int) -> Reply:
        """Take the pager: an override putting this person on call from now for ``seconds``."""
        now = self.deps.clock.now()
        end = now + timedelta(seconds=seconds)
        try:
            with self.deps.db.unit() as uow:
                schedule = lookup.find_schedule(uow.session, schedule_ref, list(person.team_ids))
                if schedule is None:
                    return Reply(f"No schedule named {schedule_ref!r}.", ephemeral=True)
                label = schedule.name
                span = {"user_id": person.id, "start": now.isoformat(), "end": end.isoformat()}
                schedules.add_override(uow.session, self.deps, schedule.id, span)
        except TocsinError as exc:
            return Reply(exc.detail, ephemeral=True)
        return Reply(
            f"{person.name} takes the pager in {label} for {format_duration(seconds)}, "
            f"until {end.strftime('%Y-%m-%d %H:%M UTC')}."
        )

    def link_by_email(self, identity: ChatIdentity, email: str | None) -> Reply:
        """Link a chat account to the Tocsin user with the e-mail address the chat's profile shows."""
        provider = identity.provider.value
        if not email:
            return Reply(
                f"Your {provider} profile shows no e-mail address, so I cannot match it to a Tocsin user. "
                "Ask an admin for a link code and send `link CODE`.",
                ephemeral=True,
            )
        try:
            with self.deps.db.unit() as uow:
                user = identities.find_by_email(uow.session, email)
                if user is None:
                    return Reply(
                        f"No Tocsin user has the e-mail address {email}. "
                        "Ask an admin for a link code and send `link CODE`.",
                        ephemeral=True,
                    )
                identities.link(uow.session, user, provider, identity.user_id)
                name = user.name
        except TocsinError as exc:
            return Reply(exc.detail, ephemeral=True)
        return Reply(f"Linked: you are {name} in Tocsin now.", ephemeral=True)

    def page_more(
        self, identity: ChatIdentity, incident_ref: str, external_ids: Sequence[str]
    ) -> list[Reply]:
        """Page more people (chat accounts of the same provider) for an open incident."""
        person = self.person(identity)
        if person is None:
            return [Reply(UNLINKED.format(provider=identity.provider.value), ephemeral=True)]
        actor = Actor(person.name, identity.provider.value, person.id)
        with self.deps.db.unit() as uow:
            found = [identities.find_user(uow.session, identity.provider.value, e) for e in external_ids]
            ids = list(dict.fromkeys(u.id for u in found if u is not None))
            names = list(dict.fromkeys(u.name for u in found if u is not None))
            missing = sum(1 for u in found if u is None)
        if not ids:
            return [Reply("Nobody you chose is linked to Tocsin, so nobody was paged.", ephemeral=True)]
        try:
            incident = paging.add_responders(
                self.deps, incident_ref, actor, [paging.Responder(i, important=True) for i in ids]
            )
        except TocsinError as exc:
            return [Reply(exc.detail, ephemeral=True)]
        text = f"Paged {', '.join(names)} for #{incident.number}."
        if missing:
            text += f" {missing} of those you chose are not linked to Tocsin and were not paged."
        return [Reply(text, refresh_card=incident.id)]

    def _link(self, identity: ChatIdentity, code: str | None) -> Reply:
        if not code:
            return Reply(
                "Ask an admin for a link code (API: POST /api/v1/users/<id>/link_code/), then send `link CODE`.",
                ephemeral=True,
            )
        try:
            with self.deps.db.unit() as uow:
                user = identities.redeem_code(
                    uow.session, self.deps.clock, code, identity.provider.value, identity.user_id
                )
                name = user.name
        except TocsinError as exc:
            return Reply(exc.detail, ephemeral=True)
        return Reply(f"Linked: you are {name} in Tocsin now.", ephemeral=True)

    # -- buttons and keypad -------------------------------------------------------------------------

    def _button(self, pressed: ButtonPressed) -> list[Reply]:
        action = pressed.action
        if action is None:
            return [Reply("This button is not one of Tocsin's, or it is too old to use.", ephemeral=True)]
        return self.act(pressed.identity, action)

    def act(self, identity: ChatIdentity, action: Action, note: str | None = None) -> list[Reply]:
        """Carry out a decoded button (or modal) action for a chat identity."""
        person = self.person(identity)
        if person is None:
            return [Reply(UNLINKED.format(provider=identity.provider.value), ephemeral=True)]
        actor = Actor(person.name, identity.provider.value, person.id)
        ref = action.incident_id
        try:
            with self.deps.db.unit() as uow:
                incidents.find(uow.session, ref)
        except TocsinError:
            return [Reply("This incident no longer exists.", ephemeral=True, remove_keyboard=True)]
        verbs: dict[ActionKind, tuple[str, Callable[[str], object]]] = {
            ActionKind.ACKNOWLEDGE: ("acknowledge", lambda r: incidents.acknowledge(self.deps, r, actor)),
            ActionKind.UNACKNOWLEDGE: (
                "unacknowledge",
                lambda r: incidents.unacknowledge(self.deps, r, actor),
            ),
            ActionKind.RESOLVE: ("resolve", lambda r: incidents.resolve(self.deps, r, actor, note)),
            ActionKind.UNRESOLVE: ("unresolve", lambda r: incidents.unresolve(self.deps, r, actor)),
            ActionKind.SILENCE: (
                "silence",
                lambda r: incidents.silence(self.deps, r, actor, action.seconds or 3600),
            ),
            ActionKind.UNSILENCE: ("unsilence", lambda r: incidents.unsilence(self.deps, r, actor)),
        }
        if action.kind is ActionKind.ADD_NOTE:
            if not note:
                return [Reply("Write the note after the command: `note 12 text`.", ephemeral=True)]
            try:
                incidents.add_note(self.deps, ref, actor, note)
            except TocsinError as exc:
                return [Reply(exc.detail, ephemeral=True)]
            return [Reply("Note added.", ephemeral=True, refresh_card=ref)]
        if action.kind is ActionKind.TRIGGER_WEBHOOK and action.webhook_id:
            try:
                webhooks.trigger_manual(self.deps, action.webhook_id, ref, person.name)
            except TocsinError as exc:
                return [Reply(exc.detail, ephemeral=True)]
            return [Reply("Webhook triggered; its answer will show in the thread.", ephemeral=True)]
        if action.kind not in verbs:
            return [Reply("That button is handled by the chat itself.", ephemeral=True)]
        verb, run = verbs[action.kind]
        try:
            run(ref)
        except TocsinError as exc:
            return [Reply(exc.detail, ephemeral=True, refresh_card=ref)]
        extra = f" for {format_duration(action.seconds)}" if action.seconds else ""
        with self.deps.db.unit() as uow:
            incident = incidents.find(uow.session, ref)
            text = f"#{incident.number} {_past(verb)} by {person.name}{extra}."
        return [Reply(text, refresh_card=ref)]

    def _keypad(self, pressed: KeypadInput) -> list[Reply]:
        action = keypad_action(pressed.digits, pressed.incident_ref)
        if action is None:
            return [
                Reply("Press 1 to acknowledge, 2 to resolve, 3 to silence for 30 minutes.", ephemeral=True)
            ]
        return self.act(pressed.identity, action)


def _past(verb: str) -> str:
    return verb + ("d" if verb.endswith("e") else "ed")


def _person(user: User) -> Person:
    return Person(user.id, user.name, tuple(m.team_id for m in user.memberships))

"""Texts the conversation shows as they are."""

HELP_TEXT = """Tocsin commands:
• who [schedule] — who is on call now
• ack <n> · unack <n> — acknowledge / undo
• resolve <n> [note] — resolve, optionally with a note
• silence <n> <duration> · unsilence <n> — e.g. silence 12 1h
• incidents — open incidents
• page <@user|team> <message> — page someone now
• override <schedule> <duration> — take the pager, e.g. override primary 2h
• test <integration> — send a realistic test alert through the real path (a monthly drill)
• link <code> — link this chat account to your Tocsin user
• help — this text
Durations: 30m, 1h, 2h30m, 1d or seconds. By SMS: "ack 12", "12a", "resolve 12"."""

UNLINKED = (
    "Your {provider} account is not linked to Tocsin, so nothing was changed. "
    "Ask an admin for a link code and send `link CODE`, or have them set your {provider} id on your Tocsin user."
)

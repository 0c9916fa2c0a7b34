"""Jinja2 templates per channel (``slack/``, ``telegram/``, ``sms/``, ``voice/``), shipped as package data.

Loaded through :func:`adapters.templating.channel.render_channel`; this package holds no code.
"""

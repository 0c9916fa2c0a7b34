"""Tocsin's domain: ingest, grouping, routing, schedules, escalation and deliveries.

Nothing here knows a chat provider, a web framework, a queue or a template engine; those live in
``adapters`` and reach the engine through the ports in :mod:`engine.ports`.
"""

"""Plain values the engine computes with: frozen dataclasses and string enums, no I/O."""

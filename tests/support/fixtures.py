"""Where the shared fixtures are: TOCSIN_FIXTURES if set, else ``../shared/fixtures`` beside the checkout
(the live copy), else the snapshot committed in ``tests/fixtures/shared`` (so a lone clone still tests
against them). Refresh the snapshot with ``cp -r ../shared/fixtures/. tests/fixtures/shared/``."""

from __future__ import annotations

import os
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
_CANDIDATES = (_TESTS.parents[1] / "shared" / "fixtures", _TESTS / "fixtures" / "shared")

FIXTURES = Path(
    os.environ.get("TOCSIN_FIXTURES")
    or next((str(p) for p in _CANDIDATES if p.is_dir()), str(_CANDIDATES[-1]))
).resolve()

"""Test ids any pytest can select again (mutation testing selects tests by id)."""

from __future__ import annotations

import re
import typing as t


def case_id(value: t.Any) -> str:
    """A test id made of letters, digits and ``._-``: mutation testing selects tests by id, and pytest cannot
    select an id holding ``::``, quotes or backslashes."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(value)).strip("_")[:60] or "empty"

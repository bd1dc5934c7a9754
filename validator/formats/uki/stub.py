"""What systemd-stub reads of a UKI's section table, by the stub's own version: the
version it names itself by, and the sections it boots by default.

Three rules, by release (the facts and their sources are in the package's constants):
before ``FIRST_WINS_SINCE`` the last section of each name in the whole table, then the
first, and from ``PROFILES_SINCE`` the first within the base (the sections before the
first ``.profile``), each replaced by the first of its name in profile 0 (from the first
``.profile`` to the next). A stub that names no version is taken as a current one.
"""

from __future__ import annotations

from validator.formats.uki import (
    FIRST_WINS_SINCE,
    PROFILE,
    PROFILES_SINCE,
    SDMAGIC,
    SDMAGIC_TEXT,
    SECTIONS,
    STUB_SEARCH,
)

LAST, FIRST, PROFILES = "last", "first", "profiles"


def version(view, table: list[dict]) -> str | None:
    """The stub's version: from its ``.sdmagic`` section, else from its LoaderInfo text
    in the bytes before the UKI's own sections (at most ``STUB_SEARCH``); None when
    neither names one."""
    head, tail = SDMAGIC_TEXT
    where = next((s for s in table if s["name"] == SDMAGIC), None)
    if where is not None and where.get("raw_in_file") is not False:
        text = view.read(where["raw_offset"], min(where["raw_size"], where["virtual_size"],
                                                  128)).split(b"\0", 1)[0]
    else:
        starts = [s["raw_offset"] for s in table if s["name"] in SECTIONS or s["name"] == PROFILE]
        data = view.read(0, min(min(starts, default=STUB_SEARCH), STUB_SEARCH))
        at = data.find(head)
        end = data.find(tail, at + len(head), at + 128) if at >= 0 else -1
        text = data[at:end + len(tail)] if end >= 0 else b""
    if not (text.startswith(head) and text.endswith(tail)):
        return None
    return text[len(head):-len(tail)].decode("ascii", "replace") or None


def major(name: str | None) -> int | None:
    """A systemd version's leading number ("257.13-1~deb13u1", "256~rc1"), or None."""
    text = name or ""
    digits = text[:len(text) - len(text.lstrip("0123456789"))]
    return int(digits) if digits else None


def rule(name: str | None) -> str:
    """LAST, FIRST or PROFILES: how the stub of version ``name`` picks its sections."""
    number = major(name)
    if number is None or number >= PROFILES_SINCE:
        return PROFILES
    return FIRST if number >= FIRST_WINS_SINCE else LAST


def booted(table: list[dict], how: str) -> tuple[dict[str, dict], int, list[str]]:
    """({name of ``SECTIONS``: the section the stub boots for it}, the number of
    ``.profile`` sections, the names profile 0 gives) under rule ``how``. Under LAST a
    name matches over its own length (``memcmp(Name, name, strlen8(name))``): a
    ``.linuxIN`` or ``.dtbauto`` section counts as ``.linux`` or ``.dtb`` (Debian's 252
    stub boots a ``.linuxIN`` after ``.linux``, run here: "Bad kernel image")."""
    marks = [i for i, s in enumerate(table) if s["name"] == PROFILE]
    if how == LAST:
        chosen: dict[str, dict] = {}
        for s in table:
            for name in SECTIONS:
                if s["name"].startswith(name):
                    chosen[name] = s
        return chosen, len(marks), []
    if how == FIRST or not marks:
        return _first(table), len(marks), []
    zero = _first(table[marks[0] + 1:marks[1] if len(marks) > 1 else len(table)])
    return {**_first(table[:marks[0]]), **zero}, len(marks), [n for n in SECTIONS if n in zero]


def _first(part: list[dict]) -> dict[str, dict]:
    """{name of ``SECTIONS``: the first section of that name in ``part``}."""
    out: dict[str, dict] = {}
    for s in part:
        if s["name"] in SECTIONS:
            out.setdefault(s["name"], s)
    return out

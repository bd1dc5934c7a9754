"""File names and other untrusted strings, made safe to print and to put in JSON.

A file name is any sequence of bytes but NUL and "/": it may hold a newline (and forge a
line of a report), an ANSI escape (and drive the terminal), or bytes that are not UTF-8
(Python keeps each as a lone surrogate, U+DC80 + byte, which no UTF-8 encoder accepts).

- ``escape_text`` for text meant for a terminal: C0 controls, DEL, C1 controls, the
  Unicode line and paragraph separators and bidirectional controls become visible escapes
  (``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``); a byte that is not UTF-8 becomes ``\\xNN`` of
  that byte. Backslashes are left as they are, so escaping twice changes nothing.
- ``json_text`` for JSON: only what cannot be encoded as UTF-8 (lone surrogates) is
  replaced, by the same ``\\xNN``; JSON escapes control characters itself.
- ``json_name`` for a path in JSON: ``{"path": ...}`` and, only when the name is not
  UTF-8, ``"path_bytes"``: the name's exact bytes, base64.

Checking is cheap: a string of printable characters (almost every one) is returned as it
is, without a regular expression.
"""

from __future__ import annotations

import os

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

#: What escape_text replaces: C0, DEL and C1 controls, line/paragraph separators, the
#: bidirectional embedding/override/isolate controls, and surrogates.
_UNSAFE = ("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
           "\ud800-\udfff]")
_SURROGATE = "[\ud800-\udfff]"
_compiled: dict = {}


def _pattern(source: str):
    pattern = _compiled.get(source)
    if pattern is None:
        import re

        pattern = _compiled[source] = re.compile(source)
    return pattern


def _escape_char(match) -> str:
    c = match.group()
    if c in _NAMED:
        return _NAMED[c]
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # a byte os.fsdecode could not decode (surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    if o <= 0xFF:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}"


def escape_text(s: str) -> str:
    """``s`` with every control character and undecodable byte shown as an escape, for
    a terminal or a text report: the result holds no C0/C1 control and encodes to UTF-8."""
    if s.isprintable():
        return s
    return _pattern(_UNSAFE).sub(_escape_char, s)


def json_text(s: str) -> str:
    """``s`` encodable as UTF-8: each lone surrogate shown as an escape (``\\xNN`` for a
    byte os.fsdecode kept); everything else unchanged."""
    if s.isascii() or s.isprintable():
        return s
    return _pattern(_SURROGATE).sub(_escape_char, s)


def json_value(value):
    """``value`` (a report's dicts, lists, strings, numbers) with every string through
    ``json_text``; the same object when nothing needed a change."""
    if isinstance(value, str):
        return json_text(value)
    if isinstance(value, dict):
        return {json_text(k) if isinstance(k, str) else k: json_value(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


def dumps(obj, **kwargs) -> str:
    """``json.dumps`` of a report whose every string encodes as UTF-8: lone surrogates
    (bytes of a name that is not UTF-8) are escaped by ``json_value``. That walk costs
    as much as the dump, so it runs only when the plain dump shows a ``\\ud8xx``-
    ``\\udfxx`` escape (a lone surrogate, or a character beyond the BMP: rare)."""
    import json

    out = json.dumps(obj, **kwargs)
    if "\\ud" not in out:
        return out
    return json.dumps(json_value(obj), **kwargs)


def name_bytes(path: str | os.PathLike) -> bytes:
    """The file name's bytes as the file system has them."""
    try:
        return os.fsencode(path)
    except UnicodeEncodeError:  # a surrogate that is no escaped byte: not from the OS
        return os.fspath(path).encode("utf-8", "surrogatepass")


def json_name(path: str | os.PathLike, key: str = "path") -> dict:
    """``{key: name}`` with the name decoded from UTF-8, undecodable bytes as ``\\xNN``;
    plus ``key + "_bytes"``, the raw name in base64, only when the name is not UTF-8
    (``\\xNN`` alone would be ambiguous with a name that holds those four characters)."""
    raw = name_bytes(path)
    try:
        return {key: raw.decode("utf-8")}
    except UnicodeDecodeError:
        import base64

        return {key: raw.decode("utf-8", "backslashreplace"),
                f"{key}_bytes": base64.b64encode(raw).decode("ascii")}


def uri_path(path: str | os.PathLike) -> str:
    """The name percent-encoded as an RFC 3986 path: its bytes (UTF-8 or as they are),
    every byte outside the unreserved set and "/" as %XX."""
    from urllib.parse import quote_from_bytes

    return quote_from_bytes(name_bytes(path), safe="/")

"""The .config and System.map readers, which parse a read's lines with one regular
expression, against a reader of one line at a time written out here (the rules of
validator/kconfig.py and validator/sysmap.py as they were before the block readers, line
by line: ``str.rstrip``, the per-line patterns, ``readline(max_line + 1)``), on generated
files read in reads of a few bytes, with lines near and past the line limit."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from validator import kconfig, sysmap, textlines

# --- the reference: one line at a time ------------------------------------------------

_SET = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set$")
_HEADER = re.compile(r"^# Linux/(\S+) (\S+) Kernel Configuration$")
_VALUE = re.compile(r'^(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$')
_SYMBOL = re.compile(r"^([0-9a-fA-F]{1,16})\s+([A-Za-z?-])\s+(\S+)(.*)")
_STUB = re.compile(r"real System\.map is in", re.IGNORECASE)


def _lines(data: bytes, max_line: int):
    """(number, line bytes or None for a line longer than max_line), by readline."""
    stream, number = io.BytesIO(data), 0
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(max_line + 1)
            yield number, None
            continue
        yield number, line


class _Config:
    def __init__(self):
        self.values, self.arch, self.version = {}, None, None
        self.problems, self.problem_count, self.lines = [], 0, 0

    def problem(self, number, text):
        self.problem_count += 1
        if len(self.problems) < kconfig.MAX_PROBLEMS:
            self.problems.append((number, text[:200]))

    def line(self, number, line):
        line = line.rstrip()
        if not line:
            return
        m = _SET.match(line)
        if m:
            self.lines += 1
            if _VALUE.match(m[2]):
                self.values[m[1]] = m[2]
            else:
                self.problem(number, line)
            return
        m = _UNSET.match(line)
        if m:
            self.lines += 1
            self.values[m[1]] = "n"
            return
        m = _HEADER.match(line)
        if m:
            self.arch, self.version = m.groups()
            return
        if not line.startswith("#"):
            self.problem(number, line)

    def facts(self):
        return (self.values, self.arch, self.version, self.problems, self.problem_count,
                self.lines)


class _Map:
    def __init__(self):
        self.symbols, self.stub, self.problems = {}, False, []
        self.count = self.problem_count = self.comments = 0

    def problem(self, number, text):
        self.problem_count += 1
        if len(self.problems) < sysmap.MAX_PROBLEMS:
            self.problems.append((number, text[:200]))

    def line(self, number, line):
        if not line.strip():
            return
        if line.lstrip().startswith("#"):
            self.comments += 1
            return
        m = _SYMBOL.match(line)
        if not m:
            self.problem(number, line.rstrip())
            return
        self.count += 1
        address, _type, name, rest = m.groups()
        if rest.strip() and _STUB.search(line):
            self.stub = True
        elif name in sysmap.WANTED:
            self.symbols.setdefault(name, int(address, 16))

    def facts(self):
        return (self.symbols, self.stub, self.problems, self.problem_count, self.count,
                self.comments)


def _reference(kind, data: bytes, max_line: int):
    ref = kind()
    for number, line in _lines(data, max_line):
        if line is None:
            ref.problem(number, f"a line longer than {max_line} bytes")
        else:
            ref.line(number, line.decode("utf-8", "replace"))
    return ref.facts()


def _config_facts(c):
    return c.values, c.arch, c.version, c.problems, c.problem_count, c.lines


def _map_facts(m):
    return m.symbols, m.stub, m.problems, m.problem_count, m.count, m.comments


# --- generated files --------------------------------------------------------------------

#: Whitespace that str.rstrip strips (ASCII, the separators 0x1c-0x1f, NEL, no-break,
#: em space) and text that is not whitespace, as bytes (UTF-8 or not).
_SPACE = st.sampled_from([" ", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85",
                          "\xa0", "\u2003"]).map(str.encode)
_JUNK = st.sampled_from([b"x", b"#", b"=", b"\xff", b"\xc3", b"\xe2\x80", b"\"", b"\\",
                         b"0x", b"-", b"1", "é".encode(), "٣".encode(), b"CONFIG_"])
_NAME = st.text("ABCXYZabcz0189_", min_size=1, max_size=12).map(str.encode)


def _tail():
    return st.lists(_SPACE, max_size=3).map(b"".join)


@st.composite
def _config_line(draw):
    name, tail = draw(_NAME), draw(_tail())
    value = draw(st.one_of(
        st.sampled_from([b"y", b"m", b"n", b"-12", b"0x1F", b"0xg", b"\"a b\"",
                         b"\"es\\\"c\"", b"\"open", b"", b"yes", b"\"x\" \"y\""]),
        st.lists(_JUNK, max_size=6).map(b"".join)))
    return draw(st.sampled_from([
        b"CONFIG_" + name + b"=" + value + tail,
        b"# CONFIG_" + name + b" is not set" + tail,
        b"# CONFIG_" + name + b" is not setX",
        b"# Linux/" + name + b" 6.1." + name + b" Kernel Configuration" + tail,
        b"#" + value + tail,
        tail,
        b"  # indented comment" + tail,
        b"CONFIG_" + name + tail,
        value + tail,
        b"CONFIG_" + name + b"=" + b"v" * draw(st.integers(20, 70)),
    ]))


@st.composite
def _map_line(draw):
    address = draw(st.text("0123456789abcdefABCDEF", min_size=1, max_size=17)).encode()
    name = draw(st.sampled_from([b"_text", b"_stext", b"_end", b"__run_at_load",
                                 b"some_function", b"_text.cold"]))
    kind = draw(st.sampled_from([b"T", b"t", b"?", b"-", b"1", b"TT"]))
    space = draw(st.lists(_SPACE, min_size=1, max_size=2).map(b"".join))
    rest = draw(st.sampled_from([b"", b"\t[module]", b" The real System.map is in the "
                                 b"linux-image-dbg package", b" x"]))
    return draw(st.sampled_from([
        address + space + kind + space + name + rest + draw(_tail()),
        draw(_tail()) + b"# comment" + rest,
        draw(_tail()),
        b"nonsense " + name + draw(_tail()),
        draw(st.lists(_JUNK, max_size=5).map(b"".join)) + draw(_tail()),
        address + b" T " + b"n" * draw(st.integers(20, 70)),
    ]))


def _file(line):
    return st.tuples(st.lists(line, max_size=40), st.booleans()).map(
        lambda t: b"\n".join(t[0]) + (b"\n" if t[1] and t[0] else b""))


_READ = st.integers(1, 97)  # bytes a read: lines and long lines cut at every place
_LIMIT = st.integers(8, 64)  # the line limit, near the generated lines' lengths


@contextlib.contextmanager
def small(read: int, limit: int):
    """Reads of ``read`` bytes and a line limit of ``limit`` bytes, for one example."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(textlines, "CHUNK", read)
        mp.setattr(kconfig, "MAX_LINE", limit)
        mp.setattr(sysmap, "MAX_LINE", limit)
        yield


@given(data=_file(_config_line()), read=_READ, limit=_LIMIT)
def test_config_reader_reads_as_line_by_line(data, read, limit):
    with small(read, limit):
        got = kconfig._read(io.BytesIO(data), "c", "c")
    assert _config_facts(got) == _reference(_Config, data, limit)


@given(data=_file(_map_line()), read=_READ, limit=_LIMIT)
def test_system_map_reader_reads_as_line_by_line(data, read, limit):
    with small(read, limit):
        got = sysmap._from_text(io.BytesIO(data), "m", "m")
    assert _map_facts(got) == _reference(_Map, data, limit)


@pytest.mark.parametrize("kind, parse, facts, line", [
    (_Config, kconfig.parse, _config_facts, _config_line()),
    (_Map, sysmap.parse, _map_facts, _map_line())], ids=["config", "system-map"])
@given(data=st.data())
def test_text_reads_as_line_by_line(kind, parse, facts, line, data):
    """``parse`` (a package's member, given as text): every line, no line limit."""
    text = data.draw(_file(line)).decode("utf-8", "replace")
    ref = kind()
    for number, each in enumerate(text.split("\n"), 1):
        ref.line(number, each)
    assert facts(parse(text)) == ref.facts()


@given(before=st.lists(st.sampled_from([b"CONFIG_A=y", b"", b"#", b"x" * 30]), max_size=9),
       read=_READ)
def test_a_nul_byte_is_refused_with_its_line(before, read):
    data = b"".join(line + b"\n" for line in before) + b"CONFIG_B=\0y\n"
    with small(read, 16), pytest.raises(
            ValueError, match=rf"a NUL byte on line {len(before) + 1}\)"):
        list(textlines.blocks(io.BytesIO(data), "c", "a .config", ValueError, 1 << 20, 16))


def test_more_than_the_size_is_refused():
    data = b"CONFIG_A=y\n" * 10
    with small(7, 16):
        assert list(textlines.blocks(io.BytesIO(data), "c", "x", ValueError, len(data), 16))
        with pytest.raises(ValueError, match="too big"):
            list(textlines.blocks(io.BytesIO(data), "c", "x", ValueError, len(data) - 1, 16,
                                  "too big"))


def test_a_real_config_reads_as_line_by_line():
    """Debian 12's arm64 .config, from the committed corpus when it is there."""
    from tests.conftest import ROOT

    found = sorted((ROOT / "corpus").rglob("config*"))
    configs = [p for p in found if p.is_file() and b"CONFIG_" in p.read_bytes()[:4096]]  # not gzip
    if not configs:
        pytest.skip("no .config in corpus/")
    for path in configs:
        data = path.read_bytes()
        assert _config_facts(kconfig.load(str(path))) == _reference(
            _Config, data, kconfig.MAX_LINE), path


def test_more_lines_than_the_limit_are_refused():
    data = b"#\n" * 10
    with small(7, 16):
        assert len([t for _, t in textlines.blocks(io.BytesIO(data), "m", "x", ValueError,
                                                   1 << 20, 16, max_lines=10)]) >= 1
        with pytest.raises(ValueError, match="more than 9 lines, not x"):
            list(textlines.blocks(io.BytesIO(data), "m", "x", ValueError, 1 << 20, 16,
                                  max_lines=9))


@pytest.mark.slow
def test_a_system_map_of_comments_is_refused_at_its_line_limit(tmp_path):
    """Comment lines are counted one by one: 64 MiB of them took seconds to read."""
    path = tmp_path / "System.map"
    path.write_bytes(b"ffff800008000000 T _text\n" + b"#\n" * sysmap.MAX_LINES)
    with pytest.raises(sysmap.SymbolsError, match=f"more than {sysmap.MAX_LINES:,} lines"):
        sysmap.load(str(path))

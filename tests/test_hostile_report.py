"""Hostile names in reports, companion files that are no companions, misspelt rule names.

- a file name is printed escaped in text (no control character reaches the terminal, no
  line can be forged), carried as valid UTF-8 in JSON with its exact bytes beside it when
  it is not UTF-8, and percent-encoded in SARIF URIs (RFC 3986);
- ``--config`` and ``--system-map`` (and lint's pairing) never block, never traceback,
  stay bounded in memory, and refuse in one line what is not a .config / System.map;
- ``--select``, ``--ignore`` and ``[tool.kimage]`` refuse a name that is no rule.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from urllib.parse import unquote_to_bytes, urlsplit

import jsonschema
import pytest

from tests.conftest import ROOT
from tests.test_check_cli import sarif_schema
from tests.test_rules import ARM64_BASE, ARM64_CONFIG, PPC64_MAP
from validator import kconfig, sysmap
from validator.report_schema import SCHEMA
from validator.textsafe import escape_text

TIMEOUT = 60


def run(*args, cwd=ROOT, timeout=TIMEOUT) -> subprocess.CompletedProcess:
    """kimage with bytes in and out: names need not be UTF-8."""
    return subprocess.run([sys.executable, "-m", "validator", *map(os.fsencode, args)],
                          cwd=cwd, capture_output=True, timeout=timeout)


# --- names -------------------------------------------------------------------------------

#: name (bytes, as the file system holds it) -> what the text report shows for it
HOSTILE = {
    b"x\n  verdict  pass\n": "x\\n  verdict  pass\\n",
    b"red\x1b[31mname": "red\\x1b[31mname",
    b"c1\xc2\x9b2J": "c1\\x9b2J",  # U+009B, the 8-bit CSI, in UTF-8
    b"a#b": "a#b",
    b"bad\xff\xfe": "bad\\xff\\xfe",  # not UTF-8
}
#: Characters no text report may hold: C0 (but the newlines between lines), DEL, C1.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@pytest.fixture
def hostile_dir(tmp_path):
    for name in HOSTILE:
        (tmp_path / os.fsdecode(name)).write_bytes(ARM64_BASE)
    (tmp_path / "%2e%2e").mkdir()
    (tmp_path / "%2e%2e" / "x").write_bytes(ARM64_BASE)
    return tmp_path


def names() -> list[str]:
    return [os.fsdecode(n) for n in HOSTILE] + ["%2e%2e/x"]


@pytest.mark.parametrize("command", ["check", "inspect"])
def test_text_report_escapes_names(hostile_dir, command):
    p = run(command, *names(), cwd=hostile_dir)
    assert p.returncode == 0, p.stderr
    text = p.stdout.decode("utf-8")  # strict: no lone surrogate was printed
    assert not CONTROL.search(text), CONTROL.findall(text)
    lines = text.splitlines()
    # one verdict line per image: none forged by a name
    assert sum(line.startswith("  verdict") for line in lines) == len(names())
    for shown in HOSTILE.values():
        assert any(line.startswith(shown) for line in lines), shown


def test_colour_escapes_are_only_kimage_own(hostile_dir):
    from validator import checker, report

    results = [checker.check_image(hostile_dir / n, checker.Options()) for n in names()]
    for text in (report.render_check_text(results, color=True),
                 report.render_text(results, color=True)):
        own = re.sub(r"\x1b\[(?:3[0-9]|0)m", "", text)
        assert "\x1b" not in own and not CONTROL.search(own)


def test_escape_text():
    assert escape_text("plain name-1.0_ü") == "plain name-1.0_ü"
    assert escape_text("a\tb\rc\nd\x00e\x7ff\x85g") == "a\\tb\\rc\\nd\\x00e\\x7ff\\x85g"
    assert escape_text("\u202egnp.exe\u2028") == "\\u202egnp.exe\\u2028"
    assert escape_text(os.fsdecode(b"\xff")) == "\\xff"
    once = escape_text("a\x1b[0m\\x1b")
    assert escape_text(once) == once == "a\\x1b[0m\\x1b"


def test_json_carries_every_name_as_utf8_and_exact_bytes(hostile_dir):
    p = run("check", "--format", "json", *names(), cwd=hostile_dir)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    json.dumps(doc, ensure_ascii=False).encode("utf-8")  # no lone surrogate anywhere
    jsonschema.validate(doc, SCHEMA)
    images = doc["images"]
    assert len(images) == len(names())
    for image, name in zip(images, names(), strict=True):
        raw = os.fsencode(name)
        try:
            assert image["path"] == raw.decode("utf-8") and "path_bytes" not in image
        except UnicodeDecodeError:
            assert image["path"] == "bad\\xff\\xfe"
            assert base64.b64decode(image["path_bytes"]) == raw


def test_lint_jsonl_carries_names_the_same_way(hostile_dir):
    p = run("lint", "--format", "jsonl", *names(), cwd=hostile_dir)
    lines = p.stdout.splitlines()
    assert len(lines) == len(names()), p.stderr
    for line in lines:
        json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")


def _uri_ok(uri: str) -> bool:
    """RFC 3986 URI-reference characters only, every % followed by two hex digits."""
    return (re.fullmatch(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%]*", uri) is not None
            and re.search(r"%(?![0-9A-Fa-f]{2})", uri) is None)


def test_sarif_uris_are_percent_encoded(hostile_dir):
    given = names() + [str(hostile_dir / "a#b")]  # relative names, and one absolute
    p = run("check", "--format", "sarif", *given, cwd=hostile_dir)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    json.dumps(doc, ensure_ascii=False).encode("utf-8")
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    artifacts = [a["location"] for a in doc["runs"][0]["artifacts"]]
    assert len(artifacts) == len(given)
    for location, name in zip(artifacts[:-1], names(), strict=True):
        uri = location["uri"]
        assert _uri_ok(uri), uri
        assert location["uriBaseId"] == "%SRCROOT%"
        parts = urlsplit(uri)
        assert not (parts.scheme or parts.netloc or parts.query or parts.fragment), uri
        assert unquote_to_bytes(uri) == os.fsencode(name)
    absolute = artifacts[-1]["uri"]
    assert _uri_ok(absolute) and absolute.startswith("file:///")
    parts = urlsplit(absolute)
    assert parts.fragment == "" and unquote_to_bytes(parts.path) == os.fsencode(given[-1])


def test_messages_that_quote_a_path_are_escaped(tmp_path):
    image = tmp_path / "Image"
    image.write_bytes(ARM64_BASE)
    config = tmp_path / os.fsdecode(b"conf\x1b]0;owned\x07\xff")
    config.write_text(ARM64_CONFIG + "CONFIG_BROKEN\n")
    p = run("check", image, "--config", config, cwd=tmp_path)
    text = p.stdout.decode("utf-8")
    assert "config/malformed-line" in text and not CONTROL.search(text)
    assert "conf\\x1b]0;owned\\x07\\xff" in text
    p = run("check", "--format", "sarif", image, "--config", config, cwd=tmp_path)
    json.dumps(json.loads(p.stdout), ensure_ascii=False).encode("utf-8")


# --- --config, --system-map and lint's pairing ---------------------------------------------


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "Image"
    path.write_bytes(ARM64_BASE)
    return path


def one_line_refusal(p: subprocess.CompletedProcess, *words: str) -> str:
    err = p.stderr.decode()
    assert p.returncode == 2, (p.returncode, err)
    assert "Traceback" not in err and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize("option", ["--config", "--system-map"])
def test_a_fifo_companion_is_refused_without_blocking(tmp_path, image, option):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = run("check", image, option, fifo, timeout=30)  # before: blocked in open(2)
    one_line_refusal(p, option, "FIFO")


def test_a_corrupt_gzip_config_is_one_line(tmp_path, image):
    bad = tmp_path / "config.gz"
    bad.write_bytes(gzip.compress(ARM64_CONFIG.encode())[:12] + b"garbage" * 10)
    one_line_refusal(run("check", image, "--config", bad), "--config", "gzip")
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(ARM64_CONFIG.encode())[:-12])
    one_line_refusal(run("check", image, "--config", cut), "gzip")


def test_lint_pairing_with_a_corrupt_config_is_a_result(tmp_path):
    (tmp_path / "vmlinuz-6.1.0-x").write_bytes(ARM64_BASE)
    (tmp_path / "config-6.1.0-x").write_bytes(b"\x1f\x8b\x08\x00" + bytes(6) + b"garbage" * 8)
    p = run("lint", "--format", "json", tmp_path)
    assert b"Traceback" not in p.stderr and p.returncode in (0, 1), p.stderr
    (result,) = json.loads(p.stdout)["images"]
    messages = " ".join(f["message"] for f in result["findings"])
    assert "config-6.1.0-x" in messages and "gzip" in messages


@pytest.mark.parametrize("content", [b"", b"\n\n", b"just some text\nnothing else\n",
                                     b"CONFIG_ARM64=y\n\0\0\0\x7fELF" + bytes(100),
                                     bytes(range(256)) * 8])
def test_what_is_no_config_is_refused_once(tmp_path, image, content):
    config = tmp_path / "config"
    config.write_bytes(content)
    p = run("check", "--format", "json", image, "--config", config)
    one_line_refusal(p, "--config", "not a kernel .config")
    assert p.stdout == b""  # before: config/efi-stub-mismatch, or lines of raw bytes


def test_a_config_is_bounded(tmp_path, image):
    bomb = tmp_path / "config.gz"
    with gzip.open(bomb, "wb") as g:  # 22 MB of text in 60 KB
        for _ in range(20):
            g.write(b"CONFIG_A=y\n" * 100_000)
    one_line_refusal(run("check", image, "--config", bomb), "more than 8 MiB")
    many = tmp_path / "many"
    many.write_text("".join(f"CONFIG_S{i}=y\n" for i in range(70_000)))
    one_line_refusal(run("check", image, "--config", many), f"{kconfig.MAX_SETTINGS} settings")


def test_malformed_config_lines_are_counted_not_kept(tmp_path):
    config = tmp_path / "config"
    config.write_text(ARM64_CONFIG + "rubbish\n" * 5000 + "x" * 100_000 + "\n")
    c = kconfig.load(str(config))
    assert c.problem_count == 5001 and len(c.problems) == kconfig.MAX_PROBLEMS
    assert c.enabled("EFI_STUB")


def peak_rss_kib(code: str) -> int:
    """Peak RSS of a fresh interpreter that runs ``code``: VmHWM, its own memory's peak
    (ru_maxrss would start at the forking pytest's peak)."""
    probe = code + ("\nprint(next(line.split()[1] for line in open('/proc/self/status') "
                    "if line.startswith('VmHWM:')))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=TIMEOUT, check=True).stdout
    return int(out.split()[-1])


@pytest.mark.slow
def test_a_system_map_is_streamed(tmp_path):
    big = tmp_path / "System.map"
    line = b"ffff800008000000 T some_kernel_function_name\n"
    with open(big, "wb") as f:
        f.write(PPC64_MAP.encode())
        for _ in range(40):  # 40 MiB: before, read whole and decoded twice
            f.write(line * ((1 << 20) // len(line)))
    kib = peak_rss_kib(f"from validator import sysmap; m = sysmap.load({str(big)!r}); "
                       "assert m.get('__run_at_load') == 0xc00000000000005c")
    assert kib < 64 << 10, kib


def test_an_oversized_system_map_is_refused_before_reading(tmp_path, image):
    big = tmp_path / "System.map"
    with open(big, "wb") as f:
        f.truncate(256 << 20)  # sparse: before, 256 MiB read and 520 MiB RSS
    one_line_refusal(run("check", image, "--system-map", big, timeout=20), "64 MiB")


@pytest.mark.parametrize("content", [b"", b"   \n", b"no symbols here\nat all\n",
                                     b"\0" * 64, PPC64_MAP.encode() + b"\0\0"])
def test_what_is_no_system_map_is_refused_once(tmp_path, image, content):
    smap = tmp_path / "System.map"
    smap.write_bytes(content)
    one_line_refusal(run("check", image, "--system-map", smap), "--system-map",
                     "not a System.map")


def test_placeholders_are_still_maps_without_symbols(tmp_path):
    stub = tmp_path / "System.map"
    stub.write_text("ffffffffffffffff B The real System.map is in the "
                    "linux-image-6.1.0-50-arm64-dbg package\n")
    assert sysmap.load(str(stub)).stub
    stub.write_text("# no symbols\n")
    m = sysmap.load(str(stub))
    assert m.symbols == {} and m.count == 0


def _nm(path) -> dict[str, int]:
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    return {name: int(addr, 16) for addr, _t, name in
            (line.split() for line in out.splitlines() if len(line.split()) == 3)
            if name in sysmap.WANTED}


SYMBOLS_S = """\
.globl _text, _stext, __run_at_load, __secondary_hold, primary_entry, _end
.text
_text:
_stext: .quad 0
.org 0x5c
__run_at_load: .long 0
__secondary_hold: .quad 0
primary_entry: .quad 0
.org 0x1000
_end:
"""


@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("nm")), reason="needs gcc, nm")
@pytest.mark.parametrize("link", [False, True])
@pytest.mark.parametrize("flags", [["-m64"], ["-m32"]])
def test_an_elf_symbol_table_matches_nm(tmp_path, flags, link):
    """ELF64 and ELF32, relocatable and linked at a kernel address; (big-endian: below)."""
    source = tmp_path / "s.S"
    source.write_text(SYMBOLS_S)
    obj = tmp_path / "s.o"
    base = "0xc0000000" if "-m32" in flags else "0xc000000000000000"
    cmd = (["gcc", *flags, "-nostdlib", "-static", f"-Wl,-Ttext={base}", "-Wl,-e,_stext"]
           if link else ["gcc", *flags, "-c"])
    if subprocess.run([*cmd, str(source), "-o", str(obj)], capture_output=True).returncode:
        pytest.skip(f"gcc {flags} cannot build here")
    expected = _nm(obj)
    assert set(expected) >= {"_text", "_stext", "__run_at_load", "__secondary_hold",
                             "primary_entry", "_end"}
    assert sysmap.load(str(obj)).symbols == expected


def elf64_be(strtab: bytes, symbols: list[tuple[int, int]], shnum: int | None = None) -> bytes:
    """A big-endian ELF64 (gABI): header, a null section, .symtab (link 2), .strtab."""
    symtab = b"".join(struct.pack(">IBBHQQ", name, 0, 0, 1, value, 0)
                      for name, value in [(0, 0), *symbols])
    body = symtab + strtab
    shoff = 64 + len(body)
    ehdr = b"\x7fELF\x02\x02\x01" + bytes(9) + struct.pack(
        ">HHIQQQIHHHHHH", 1, 21, 1, 0, 0, shoff, 0, 64, 0, 0, 64,
        3 if shnum is None else shnum, 0)
    shdrs = (bytes(64)
             + struct.pack(">IIQQQQIIQQ", 0, 2, 0, 0, 64, len(symtab), 2, 1, 8, 24)
             + struct.pack(">IIQQQQIIQQ", 0, 3, 0, 0, 64 + len(symtab), len(strtab), 0, 0,
                           1, 0))
    return ehdr + body + shdrs


def test_names_shared_as_the_tail_of_longer_ones_are_found(tmp_path):
    # "__stext\0": a linker may point _stext at offset 2 and "stext" at 3 (tail merging)
    strtab = b"\0__stext\0_end\0"
    path = tmp_path / "vmlinux"
    path.write_bytes(elf64_be(strtab, [(1, 0x10), (2, 0xC000000000000000), (3, 0x30),
                                       (9, 0xC000000000002000)]))
    expected = {"_stext": 0xC000000000000000, "_end": 0xC000000000002000}
    from elftools.elf.elffile import ELFFile  # an independent reader agrees

    with open(path, "rb") as f:
        seen = {s.name: s["st_value"] for s in ELFFile(f).get_section(1).iter_symbols()}
    assert {k: v for k, v in seen.items() if k in sysmap.WANTED} == expected
    assert sysmap.load(str(path)).symbols == expected


@pytest.mark.parametrize("shnum", [0xFFFF, 0])
def test_a_lying_elf_is_one_line(tmp_path, image, shnum):
    path = tmp_path / "vmlinux"
    data = bytearray(elf64_be(b"\0_text\0", [(1, 0x10)], shnum=shnum))
    if shnum == 0:  # extended numbering: section 0's sh_size gives the count
        shoff = struct.unpack_from(">Q", data, 0x28)[0]
        struct.pack_into(">Q", data, shoff + 32, 1 << 40)
    path.write_bytes(bytes(data))
    one_line_refusal(run("check", image, "--system-map", path), "cannot read the ELF")


def test_a_stripped_elf_is_no_symbol_map(tmp_path, image):
    path = tmp_path / "vmlinux"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(9) + bytes(48))
    one_line_refusal(run("check", image, "--system-map", path), "stripped")


# --- rule names --------------------------------------------------------------------------


@pytest.mark.parametrize("args,message", [
    (["--select", "nonexistent/rule"], "--select: unknown rule 'nonexistent/rule'"),
    (["--select", "arm64/bad-magik"],
     "--select: unknown rule 'arm64/bad-magik'; did you mean 'arm64/bad-magic'?"),
    (["--ignore", "arm64,arm65"], "--ignore: unknown rule 'arm65'; did you mean 'arm64'?"),
    (["--select", "ARM64/"], "did you mean 'arm64/'?"),
])
@pytest.mark.parametrize("command", ["check", "lint"])
def test_unknown_rule_names_are_usage_errors(image, command, args, message):
    p = run(command, *args, image)  # before: every image passed, exit 0
    assert message in one_line_refusal(p)


@pytest.mark.parametrize("table,message", [
    ('select = ["arm64/no-such"]', "[tool.kimage] select: unknown rule 'arm64/no-such'"),
    ('ignore = ["kdmup"]', "[tool.kimage] ignore: unknown rule 'kdmup'"),
    ('[tool.kimage.severity]\n"arm64" = "error"', "[tool.kimage.severity]: unknown rule 'arm64'"),
    ('[tool.kimage.severity]\n"arm64/no-efi-stubb" = "error"',
     "did you mean 'arm64/no-efi-stub'?"),
])
def test_unknown_rule_names_in_pyproject_are_usage_errors(tmp_path, image, table, message):
    (tmp_path / "pyproject.toml").write_text(f"[tool.kimage]\n{table}\n")
    err = one_line_refusal(run("check", image, cwd=tmp_path))
    assert str(tmp_path / "pyproject.toml") in err and message in err


@pytest.mark.parametrize("args", [["--select", "ALL"], ["--select", "*"],
                                  ["--select", "arm64,config/"],
                                  ["--ignore", "arm64/image-size-zero"],
                                  ["--select", "preflight/"]])
def test_known_rule_names_are_accepted(image, args):
    assert run("check", *args, image).returncode == 0


def test_a_valid_selection_costs_the_check_path_nothing(tmp_path, image):
    probe = ("import sys\nfrom validator.cli import main\nmain(sys.argv[1:])\n"
             "sys.stderr.write(repr(sorted(sys.modules)))")
    p = subprocess.run([sys.executable, "-c", probe, "check", "--select",
                        "arm64/image-size-zero,config", "--ignore", "layer/", str(image)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    modules = set(eval(p.stderr.strip().splitlines()[-1]))  # noqa: S307 (our own repr)
    assert "validator.preflight" not in modules and "construct" not in modules
    assert "validator.formats.arm64_image.rules" in modules

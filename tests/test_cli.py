"""The kimage command: output, exit codes, and bad input never giving a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import jsonschema
import pytest

from tests.conftest import CORPUS, ROOT
from validator import cli
from validator.report_schema import SCHEMA

ARM64 = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img"
PPC64_ELF = CORPUS / "synthetic/ppc64/vmlinux-fixup_endian_long-le-run0.elf"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def inspect_json(*paths) -> dict:
    p = run("inspect", "--format", "json", *map(str, paths))
    assert p.returncode in (0, 1), p.stderr
    doc = json.loads(p.stdout)
    jsonschema.validate(doc, SCHEMA)
    return doc


def test_text_output_names_every_field_and_fact():
    p = run("inspect", str(ARM64))
    assert p.returncode == 0, p.stderr
    for word in ("arm64-image", "code0", "text_offset", "image_size", "flags.page_size",
                 "flags.phys_base", "magic", "pe_offset", "4 KiB pages", "verdict  pass"):
        assert word in p.stdout
    assert "\x1b[" not in p.stdout  # no colour when not on a terminal


def test_json_report_matches_schema_and_contract():
    doc = inspect_json(ARM64, PPC64_ELF)
    assert doc["schema"] == "kimage-report/1" and doc["tool"]["name"] == "kimage"
    arm, ppc = doc["images"]
    assert arm["format"] == "arm64-image" and arm["header"]["magic"] == "ARMd"
    assert arm["header"]["flags"]["page_size"] == "size_4k"
    assert ppc["format"] == "ppc64-head"
    assert ppc["layers"][0]["kind"] == "elf" and ppc["layers"][0]["payload_offset"] == 0x1000
    assert ppc["header_offset"] == 0x1000
    assert ppc["facts"]["run_at_load"] == "run0"
    field = {f["name"]: f for f in ppc["fields"]}["run_at_load"]
    assert field["offset"] == 0x5C and field["raw"] == 0x72756E30


def test_schema_command_prints_the_schema():
    p = run("schema")
    assert p.returncode == 0 and json.loads(p.stdout) == SCHEMA


def test_rules_lists_and_explains():
    p = run("rules")
    assert p.returncode == 0 and "layer/unknown-format" in p.stdout
    p = run("rules", "elf/truncated")
    assert p.returncode == 0 and "Reference:" in p.stdout
    p = run("rules", "no/such-rule")
    assert p.returncode == 2 and "no rule" in p.stderr


def _one_line_error(p: subprocess.CompletedProcess, needle: str):
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and needle in p.stderr


def test_missing_path(tmp_path):
    _one_line_error(run("inspect", str(tmp_path / "nope")), "no such file")


def test_directory(tmp_path):
    _one_line_error(run("inspect", str(tmp_path)), "is a directory")


@pytest.mark.parametrize("size", [0, 10, 59])
def test_too_short(tmp_path, size):
    path = tmp_path / "short"
    path.write_bytes(b"\x01" * size)
    _one_line_error(run("inspect", str(path)), "too short")


def test_unreadable_file(tmp_path, monkeypatch, capsys):
    path = tmp_path / "secret"
    path.write_bytes(ARM64.read_bytes())
    real_open = os.open

    def deny(p, *a, **k):
        if os.fspath(p) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(p, *a, **k)

    monkeypatch.setattr(os, "open", deny)
    assert cli.main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "permission denied" in err and len(err.strip().splitlines()) == 1


def test_not_a_kernel_gives_unknown_format(tmp_path):
    path = tmp_path / "text"
    path.write_bytes(b"hello, world\n" * 20)
    p = run("inspect", "--format", "json", str(path))
    assert p.returncode == 1
    image = json.loads(p.stdout)["images"][0]
    assert image["format"] == "unknown" and image["verdict"] == "fail"
    (f,) = image["findings"]
    assert f["rule"] == "layer/unknown-format" and "ARM\\x64" in f["message"]


def test_elf_of_another_machine(tmp_path):
    data = bytearray(PPC64_ELF.read_bytes())
    data[0x12:0x14] = (62).to_bytes(2, "little")  # EM_X86_64
    path = tmp_path / "x86.elf"
    path.write_bytes(data)
    image = inspect_json(path)["images"][0]
    assert [f["rule"] for f in image["findings"]] == ["elf/unsupported-machine"]


@pytest.mark.parametrize("cut", [0x3E, 0x40, 0x78, 0x1000 + 100])
def test_cut_short_elf_is_a_finding(tmp_path, cut):
    path = tmp_path / "cut.elf"
    path.write_bytes(PPC64_ELF.read_bytes()[:cut])
    image = inspect_json(path)["images"][0]
    rules = {f["rule"] for f in image["findings"]}
    assert rules & {"elf/malformed", "elf/truncated", "ppc64/head-truncated"}
    assert image["verdict"] == "fail"


def test_truncated_arm64_header(tmp_path):
    path = tmp_path / "cut.img"
    path.write_bytes(ARM64.read_bytes()[:62])
    image = inspect_json(path)["images"][0]
    assert [f["rule"] for f in image["findings"]] == ["arm64/truncated-header"]


def test_inputs_are_never_modified():
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ARM64, PPC64_ELF)}
    mtimes = {p: p.stat().st_mtime_ns for p in before}
    run("inspect", str(ARM64), str(PPC64_ELF))
    run("inspect", "--format", "json", str(ARM64), str(PPC64_ELF))
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before}
    assert mtimes == {p: p.stat().st_mtime_ns for p in before}


def test_inspect_imports_nothing_heavy():
    code = (f"import sys; from validator import cli; cli.main(['inspect', {str(ARM64)!r}]); "
            "heavy = [m for m in ('hypothesis', 'jsonschema', 'pefile', 'elftools', "
            "'construct') if m in sys.modules]; print('HEAVY', heavy)")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert "HEAVY []" in p.stdout, p.stdout + p.stderr


def test_banner_gives_the_kernel_version(tmp_path):
    path = tmp_path / "with-banner.img"
    banner = b"Linux version 6.1.0-50-arm64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP\n\0"
    path.write_bytes(ARM64.read_bytes().ljust(0x1000, b"\0") + b"x" * (1 << 20) + banner)
    image = inspect_json(path)["images"][0]
    assert image["facts"]["kernel_version"] == "6.1.0-50-arm64"

"""preflight reads the installed kexec-tools from an rpm database (rpmdb.sqlite) made by
the real rpm: ``rpm --dbpath ROOT/usr/lib/sysimage/rpm -i --justdb`` of a kexec-tools
package that rpmbuild made (corpus/rpm/make.sh), in Fedora's layout (/var/lib/rpm a
link to ../../usr/lib/sysimage/rpm). The expected version comes from ``rpm --dbpath -q
--qf``, never from kimage. Hostile databases are flagged, never a traceback."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from validator.kdump.host import read_host

SYSROOTS = ROOT / "tests" / "sysroots"
DB = "usr/lib/sysimage/rpm"


@pytest.fixture(scope="module")
def kexec_rpm(tmp_path_factory) -> Path:
    if shutil.which("rpmbuild") is None or shutil.which("rpm") is None:
        pytest.skip("rpm and rpmbuild not installed (apt-get install rpm)")
    out = tmp_path_factory.mktemp("rpm")
    run = subprocess.run(["sh", str(ROOT / "corpus" / "rpm" / "make.sh"), str(out),
                          "kexec-tools"], capture_output=True, text=True, timeout=300)
    if run.returncode:
        pytest.skip(f"corpus/rpm/make.sh kexec-tools failed: {run.stderr.strip()[-300:]}")
    return next(out.glob("kexec-tools-*.rpm"))


def fedora_root(tmp_path: Path, rpm: Path | None, binary: bool) -> Path:
    root = tmp_path / "root"
    shutil.copytree(SYSROOTS / "fedora-arm64", root, symlinks=True)
    if not binary:
        (root / "usr/sbin/kexec").unlink()
    (root / DB).mkdir(parents=True)
    (root / "var/lib").mkdir(parents=True, exist_ok=True)
    (root / "var/lib/rpm").symlink_to("../../usr/lib/sysimage/rpm")
    if rpm is not None:
        subprocess.run(["rpm", "--dbpath", str(root / DB), "-i", "--justdb", "--nodeps",
                        "--ignorearch", "--ignoreos", str(rpm)], check=True,
                       capture_output=True, timeout=120)
    return root


def rpm_q(root: Path) -> str:
    return subprocess.run(["rpm", "--dbpath", str(root / DB), "-q", "--qf",
                           "%{VERSION}|%{VERSION}-%{RELEASE}", "kexec-tools"],
                          capture_output=True, text=True, check=True).stdout


def test_a_fedora_root_names_its_kexec_tools_from_the_rpm_database(kexec_rpm, tmp_path):
    root = fedora_root(tmp_path, kexec_rpm, binary=False)
    version, package = rpm_q(root).split("|")
    before = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in (root / DB).iterdir()}
    host = read_host(root)
    assert (host.kexec_tools, host.kexec_tools_package, host.kexec_tools_source) == (
        version, package, f"/{DB}/rpmdb.sqlite")
    assert host.malformed == []
    after = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in (root / DB).iterdir()}
    assert after == before  # nothing written, made or removed beside the database


def test_the_binary_still_wins_and_the_disagreement_is_noted(kexec_rpm, tmp_path):
    root = fedora_root(tmp_path, kexec_rpm, binary=True)
    version, package = rpm_q(root).split("|")
    host = read_host(root)
    assert host.kexec_tools_package == package
    assert host.kexec_tools == "2.0.31"  # the fixture's /usr/sbin/kexec says so
    said = [(e.file, e.value, e.note) for e in host.evidence["kexec-tools"]]
    assert (f"/{DB}/rpmdb.sqlite", f"kexec-tools {package}") in [s[:2] for s in said]
    assert any(f"differs from /{DB}/rpmdb.sqlite ({version})" in s[2] for s in said)


def _hostile(tmp_path: Path, make) -> object:
    root = fedora_root(tmp_path, None, binary=False)
    make(root / DB / "rpmdb.sqlite")
    return read_host(root)


def test_a_database_that_is_not_sqlite_is_flagged(tmp_path):
    host = _hostile(tmp_path, lambda p: p.write_bytes(b"not a database\n" * 100))
    assert [m[1] for m in host.malformed] == [f"/{DB}/rpmdb.sqlite"]
    assert host.kexec_tools is None


def _db(path: Path, blob: bytes) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
    db.execute("CREATE TABLE Name (key TEXT, hnum INTEGER, idx INTEGER)")
    db.execute("INSERT INTO Packages VALUES (1, ?)", (blob,))
    db.execute("INSERT INTO Name VALUES ('kexec-tools', 1, 0)")
    db.commit()
    db.close()


@pytest.mark.parametrize("blob", [
    b"\0\0\0\x05\0\0\0\x10" + b"\xff" * 40,  # 5 entries declared, 40 bytes
    b"\x00\x01\x00\x00\x00\x00\x00\x10",  # 65536 entries: rpm's limit is 65535
    b"\0\0\0\x01\x7f\0\0\0",  # a 2 GiB store
])
def test_a_hostile_header_in_the_database_is_flagged(tmp_path, blob):
    host = _hostile(tmp_path, lambda p: _db(p, blob))
    assert [m[1] for m in host.malformed] == [f"/{DB}/rpmdb.sqlite"], host.malformed
    assert host.kexec_tools is None


def test_an_index_naming_another_package_is_not_trusted(tmp_path):
    from validator.formats.rpm import NAME, RELEASE, STRING, VERSION, writer

    blob = writer.blob([(NAME, STRING, "kexec-tools-extra"), (VERSION, STRING, "9.9.9"),
                        (RELEASE, STRING, "1")], 63)
    host = _hostile(tmp_path, lambda p: _db(p, blob))
    assert host.kexec_tools is None and host.malformed == []
    assert (f"/{DB}/rpmdb.sqlite", "kexec-tools not installed") in [
        (e.file, e.value) for e in host.evidence["kexec-tools"]]


def test_a_berkeley_db_is_named_not_read(tmp_path):
    root = fedora_root(tmp_path, None, binary=False)
    (root / "var/lib/rpm").unlink()
    (root / "var/lib/rpm").mkdir()
    (root / "var/lib/rpm/Packages").write_bytes(b"\0" * 4096)
    host = read_host(root)
    assert host.malformed == [] and host.kexec_tools is None
    notes = {(e.file, e.value) for e in host.evidence["kexec-tools"]}
    assert any(f == "/var/lib/rpm/Packages" and "does not read" in v for f, v in notes)

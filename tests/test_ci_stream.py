"""The whole-run reports written as results arrive (validator.ci_stream) are byte for
byte the reports validator.ci_formats.render makes of the whole list: real and synthetic
images, several roots, the working directory, absolute paths, names that are not UTF-8,
no finding, no image. And a lint run's memory does not grow with the images."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from validator import checker, ci_formats, ci_stream
from validator.ci_stream import STREAMED, Spool

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def _results(tmp_path: Path):
    """Results of images under two roots, one given relative, plus an absolute path
    under no root and a name that is not UTF-8."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    names = sorted((CORPUS / "synthetic/arm64").glob("*.img"))[:4] + sorted(
        (CORPUS / "synthetic").glob("ppc64*/*"))[:2]
    paths = []
    for i, src in enumerate(names):
        dst = (a if i % 2 else b) / f"vmlinuz-{i}"
        dst.write_bytes(src.read_bytes())
        paths.append(str(dst))
    odd = a / os.fsdecode(b"vmlinuz-\xff%#?")
    odd.write_bytes(names[0].read_bytes())
    paths.append(str(odd))
    short = b / "vmlinuz-short"
    short.write_bytes(b"\0" * 100)
    paths.append(str(short))
    outside = tmp_path / "vmlinuz-outside"
    outside.write_bytes(names[1].read_bytes())
    paths.append(str(outside))
    options = checker.Options()
    results = []
    for p in paths:
        try:
            results.append(checker.check_image(p, options))
        except Exception as exc:  # noqa: BLE001  (an unreadable one is a result too)
            results.append(checker.unreadable(p, str(exc)))
    return results, [str(a), str(b)]


def _streamed(fmt, results, **kw) -> str:
    exit_code = kw.pop("exit_code", 0)
    spool = Spool(fmt, **kw)
    try:
        for r in results:
            spool.add(r)
        out = io.StringIO()
        spool.write(out, exit_code=exit_code)
    finally:
        spool.close()
    return out.getvalue()


@pytest.mark.parametrize("spilled", [False, True], ids=["in-memory", "spilled"])
@pytest.mark.parametrize("fmt", STREAMED)
def test_streamed_reports_are_the_whole_list_reports(fmt, spilled, tmp_path, monkeypatch):
    """Held in memory (a check's report) or moved to a temporary file at the first part
    (SPILL 0: a lint run's), the report is the same."""
    results, roots = _results(tmp_path)
    assert len(results) == 9 and len({len(r.findings) for r in results}) > 1
    monkeypatch.chdir(tmp_path)
    if spilled:
        monkeypatch.setattr(ci_stream, "SPILL", 0)
    for kw in (dict(roots=roots), dict(roots=roots[:1]), dict(roots=["a", "b"]),
               dict(roots=roots, uri_roots=["."]), dict(roots=[], exit_code=1),
               dict(roots=roots, fail_on="info", exit_code=2)):
        for subset in (results, results[:1], results[-1:], []):
            kw2 = dict(kw)
            want = ci_formats.render(fmt, subset, **kw2)
            assert _streamed(fmt, subset, **kw2) == want, (fmt, kw, len(subset))


def test_lint_memory_is_flat_in_a_whole_run_format(tmp_path):
    """Peak RSS of lint --format json over 1,500 images is within 4 MiB of its peak
    over 150 (it grew by ~48 KiB an image when every result was held to the end)."""
    src = sorted((CORPUS / "synthetic/arm64").glob("*.img"))
    peaks = {}
    for n in (150, 1500):
        d = tmp_path / str(n)
        d.mkdir()
        for i in range(n):
            (d / f"vmlinuz-{i}").write_bytes(src[i % len(src)].read_bytes())
        proc = subprocess.run(
            [sys.executable, "-c",
             "import resource, sys; from validator import cli; rc = cli.main(sys.argv[1:]); "
             "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
             "sys.exit(rc)", "lint", "-j", "1", "--format", "json", str(d)],
            capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 1), proc.stderr
        assert proc.stdout.count('"file_size"') == n
        peaks[n] = int(proc.stderr.strip().splitlines()[-1])
    assert peaks[1500] - peaks[150] < 4096, peaks


def test_a_part_moves_to_a_temporary_file_past_spill(monkeypatch):
    """Text past SPILL characters leaves memory for an unnamed temporary file, which
    gives back every character written: surrogates (names that are not UTF-8) and a
    carriage return included, with no newline translated."""
    monkeypatch.setattr(ci_stream, "SPILL", 10)
    part = ci_stream._Part()
    try:
        part.write("abc\r\n")
        assert isinstance(part.file, io.StringIO)
        part.write("d\udcff\re\nfgh")
        assert not isinstance(part.file, io.StringIO) and part.file.fileno() >= 0
        part.write("ij\n")
        assert part.rewound().read() == "abc\r\nd\udcff\re\nfghij\n"
        assert list(part.rewound()) == ["abc\r\n", "d\udcff\re\n", "fghij\n"]
    finally:
        part.close()

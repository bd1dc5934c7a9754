"""The banner search (validator.banner) against the regular expression that defines a
banner, rb"Linux version (\\d+\\.\\d+[\\x21-\\x7e]*) \\(" (the release of linux_banner,
init/version.c, is followed by " (" in every banner since 2.6): on any bytes built of the
pieces that matter, the same match, the same release, the same offsets."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from validator import banner

DEFINITION = re.compile(rb"Linux version (\d+\.\d+[\x21-\x7e]*) \(")
PIECES = [b"Linux version ", b"Linux version 6.1.0-50-arm64 (", b"6", b"12", b".", b"1",
          b" ", b"(", b" (", b"\n", b"\x00", b"a", b"-", b"+", b"\x7f", b"\x80", b"!",
          b"~", b"Linux", b"x" * 300]


def _as_tuple(m):
    return m and (m.group(0), m.group(1), m.start(), m.start(1))


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=16).map(b"".join))
def test_the_search_finds_what_the_definition_matches(data):
    expected = DEFINITION.search(data)
    if expected is not None and len(expected.group(1)) >= banner.MAX_MATCH:
        expected = None  # longer than any release (the kernel's is at most 64 bytes)
    assert _as_tuple(banner.FINDER.search(data)) == _as_tuple(expected)
    assert _as_tuple(banner.FINDER.search(bytearray(data))) == _as_tuple(expected)


def test_real_banners():
    debian = (b"\0\0Linux version 6.1.0-50-arm64 (debian-kernel@lists.debian.org) "
              b"(gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP Debian 6.1.176-1\n\0")
    assert banner.FINDER.search(debian).group(1) == b"6.1.0-50-arm64"
    printk = b"Linux version %s (%s)\n\0Linux version 2.6.32 (root@x) (gcc) #1\n"
    assert banner.FINDER.search(printk).group(1) == b"2.6.32"  # the format is passed
    assert banner.FINDER.search(b"Linux version 6.1.0\n(") is None  # no space before (


@settings(max_examples=400, deadline=None)
@given(data=st.lists(st.sampled_from(PIECES), max_size=24).map(b"".join),
       chunk=st.integers(1, 64), bounds=st.tuples(st.integers(0, 400), st.integers(0, 400)))
def test_the_file_search_finds_the_first_banner_in_its_range(tmp_path_factory, data, chunk,
                                                              bounds):
    """``kernel_version`` of a file (read a chunk at a time into a buffer no larger than
    the range) is the release the definition finds first in ``data[start:end]``, whatever
    the chunk size: a banner across a chunk border is found, one outside the range is
    not."""
    from validator.io.source import Source

    start, end = sorted(bounds)
    expected = DEFINITION.search(data[start:end])
    if expected is not None and len(expected.group(1)) >= banner.MAX_MATCH:
        expected = None
    path = tmp_path_factory.mktemp("banner") / "image"
    path.write_bytes(data)
    saved, banner.CHUNK = banner.CHUNK, chunk
    try:
        with Source(path) as source:
            found = banner.kernel_version(source, start, end)
    finally:
        banner.CHUNK = saved
    assert found == (expected.group(1).decode() if expected else None)


class _Pieces:
    """A view (``read(offset, n)``) that hands out at most ``size`` bytes a read, as a
    decoder's chunks come: the scan's reads never line up with them."""

    transformed, base, source = True, None, None

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = data, size

    def read(self, offset: int, n: int) -> bytes:
        return self.data[offset:offset + min(n, self.size)]


@settings(max_examples=400, deadline=None)
@given(data=st.lists(st.sampled_from(PIECES), max_size=24).map(b"".join),
       before=st.integers(0, 700), size=st.sampled_from([1, 7, 255, 256, 300, 65536]))
def test_the_decoded_view_search_finds_the_first_banner(data, before, size):
    """A banner search through a decoded view (``_scan``: each read searched where it lies,
    the bytes a read ends with kept for a banner it cuts) finds what the definition finds
    first, wherever the reads end, also a banner across one end and another after it."""
    from validator.io.views import _scan

    data = b"\0" * before + data
    expected = DEFINITION.search(data)
    if expected is not None and len(expected.group(1)) >= banner.MAX_MATCH:
        expected = None
    m = _scan(_Pieces(data, size), banner.FINDER, 256, None)
    assert _as_tuple(m) == _as_tuple(expected)


def test_check_reads_the_banner_of_a_compressed_kernel_wherever_it_lies(tmp_path):
    """check decodes every stream to its end anyway, so a banner beyond ``scan_read`` of
    the compressed input is found (the config's version is then compared with it);
    inspect stops its search there, as documented."""
    import gzip
    import random

    from tests.conftest import ROOT
    from validator.io.limits import Limits
    from validator.pipeline import analyse

    head = (ROOT / "corpus/synthetic/arm64/v5.8-4k-le-anywhere-noefi.img").read_bytes()
    noise = random.Random(7).randbytes(2 << 20)  # incompressible: 2 MiB of input before it
    release = b"6.6.6-kimage-test"
    kernel = head + noise + b"Linux version " + release + b" (builder@host) (gcc) #1\n\0"
    path = tmp_path / "Image.gz"
    path.write_bytes(gzip.compress(kernel, compresslevel=1, mtime=0))
    assert Limits().scan_read < len(noise)
    assert analyse(path, Limits(decode_all=True)).facts["kernel_version"] == release.decode()
    assert analyse(path, Limits()).facts["kernel_version"] is None

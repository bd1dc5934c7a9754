"""A decoded view keeps its window as the decoder's own chunks (no copy of what a reader
skips): every read, within a chunk, across chunks, across the head's end, behind the
window (the decoder restarts), gives the bytes ``zlib.decompress`` gives for the same
stream; memory stays within the head and two windows; a stream cut short or corrupt is
still reported after the whole stream was decoded."""

from __future__ import annotations

import random
import zlib

import pytest

from validator.banner import FINDER
from validator.formats.compression import decoder as compression
from validator.io.decoded import DecodedView
from validator.io.limits import Context, Limits, MiB
from validator.io.source import Source
from validator.io.views import View, read_all

SIZE = 5 * MiB + 12345


def _gzip(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


@pytest.fixture(scope="module")
def plain() -> bytes:
    rng = random.Random(7)
    # compressible but not trivial: words drawn from a small vocabulary, some random runs
    words = [rng.randbytes(rng.randint(1, 12)) for _ in range(400)]
    out = bytearray()
    while len(out) < SIZE:
        out += rng.choice(words) if rng.random() < 0.97 else rng.randbytes(300)
    return bytes(out[:SIZE])


def _view(tmp_path, data: bytes, name: str = "s.gz", limits: Limits | None = None):
    path = tmp_path / name
    path.write_bytes(data)
    source = Source(path)
    ctx = Context(limits or Limits(decode_all=True))
    unwrapped = compression.unwrap(View.whole(source), ctx)
    assert unwrapped.view is not None
    return unwrapped.view, ctx


def test_reads_give_the_decoded_bytes(tmp_path, plain):
    view, _ = _view(tmp_path, _gzip(plain))
    assert isinstance(view, DecodedView)
    rng = random.Random(1)
    pos = 0
    while pos < SIZE:
        # forward, mostly: a tar walk (headers, skipped members), a banner scan
        length = rng.choice([1, 100, 512, 4096, 65536, 65537, 200_000, 900_000])
        got = view.read(pos, length)
        want = plain[pos:pos + min(length, DecodedView.WINDOW - DecodedView.CHUNK)]
        assert got == want, (pos, length)
        assert isinstance(got, bytes)
        back = rng.randint(0, min(pos, 4096))  # the header just read: within the window
        assert view.read(pos - back, 700) == plain[pos - back:pos - back + 700]
        pos += rng.choice([1, 511, 512, 65536, 300_000])
    assert view.restarts == 0
    # the head's end, and reads that straddle it
    head = DecodedView.HEAD
    assert view.read(head - 10, 20) == plain[head - 10:head + 10]
    assert view.read(0, 16) == plain[:16]
    # behind the window: the decoder starts again and the bytes are the same
    assert view.read(head + 100, 1000) == plain[head + 100:head + 1100]
    assert view.restarts == 1
    assert bytes(read_all(view, SIZE - 3 * MiB, 3 * MiB)) == plain[SIZE - 3 * MiB:]
    assert view.read(SIZE - 5, 100) == plain[SIZE - 5:]
    assert view.read(SIZE, 100) == b""
    view.finish()
    assert view.total == SIZE and view.finished and not view.findings


def test_blocks_are_the_decoded_chunks_themselves(tmp_path, plain):
    """``block`` hands out the stream a decoded chunk at a time, each the chunk the view
    keeps (no copy); read so, end to end, it is the stream, and a block asked for in
    the middle of a chunk, or behind the window, is the same bytes."""
    view, _ = _view(tmp_path, _gzip(plain))
    pos, sizes = 0, set()
    while True:
        block = view.block(pos, 1 << 20)
        if not block:
            break
        assert block == plain[pos:pos + len(block)]
        assert any(block is chunk for chunk in view._chunks), pos
        sizes.add(len(block))
        pos += len(block)
    assert pos == SIZE and view.restarts == 0
    assert max(sizes) <= DecodedView.CHUNK
    assert view.block(SIZE - 7, 100) == plain[SIZE - 7:]
    assert view.block(SIZE, 100) == b"" and view.block(-1, 10) == b""
    assert view.block(1000, 10) == plain[1000:1010]  # behind the window: decoded again
    assert view.restarts == 1
    middle = view.block(123_457, 1 << 20)
    assert 0 < len(middle) <= DecodedView.CHUNK
    assert middle == plain[123_457:123_457 + len(middle)]
    member = view.slice(1_000_000, 100_000)  # a tar member: within its own bounds
    got = b""
    while chunk := member.block(len(got), 1 << 20):
        got += chunk
    assert got == plain[1_000_000:1_100_000]


def test_a_search_finds_what_crosses_a_chunk_border(tmp_path, plain):
    """The banner search over a decoded stream (its chunks, as decoded) finds a banner
    that a chunk border cuts, at its offset in the stream."""
    view, _ = _view(tmp_path, _gzip(plain))
    border = next(pos for pos in _chunk_starts(view) if pos > 2 * MiB)
    banner = b"Linux version 6.1.0-50-arm64 (debian-kernel@lists.debian.org) "
    data = plain[:border - 20] + banner + plain[border - 20 + len(banner):]
    cut, _ = _view(tmp_path, _gzip(data), "banner.gz")
    at = border - 20
    assert any(at < pos < at + len(banner) for pos in _chunk_starts(cut))  # it is cut
    view, _ = _view(tmp_path, _gzip(data), "banner.gz")
    found = view.scan(FINDER)
    assert found is not None and found.start() == border - 20
    assert found.group(1) == b"6.1.0-50-arm64"


def _chunk_starts(view):
    pos = 0
    while block := view.block(pos, 1 << 20):
        pos += len(block)
        yield pos


def test_memory_stays_within_the_head_and_two_windows(tmp_path, plain):
    view, _ = _view(tmp_path, _gzip(plain))
    most = 0
    for pos in range(0, SIZE, 512 * 1024):
        view.read(pos, 512)
        most = max(most, view._head.__sizeof__() + view._held())
    # the head, a window, at most a window more before it is trimmed, and a chunk
    assert most <= DecodedView.HEAD + 2 * DecodedView.WINDOW + DecodedView.CHUNK + 64 * 1024
    assert view._win_len >= DecodedView.WINDOW  # at least a window is kept behind


def test_a_stream_cut_short_or_corrupt_is_still_reported(tmp_path, plain):
    stream = _gzip(plain)
    cut, _ = _view(tmp_path, stream[:len(stream) // 2], "cut.gz")
    cut.finish()
    assert [f.rule for f in cut.findings] == ["layer/truncated"]
    bad = bytearray(stream)
    bad[-6] ^= 0xFF  # the CRC32 of the trailer
    corrupt, _ = _view(tmp_path, bytes(bad), "crc.gz")
    corrupt.finish()
    assert [f.rule for f in corrupt.findings] == ["layer/corrupt"]
    lying = bytearray(stream)
    lying[-1] ^= 0x01  # ISIZE
    lied, _ = _view(tmp_path, bytes(lying), "isize.gz")
    lied.finish()
    assert [f.rule for f in lied.findings] == ["layer/lying-size"]

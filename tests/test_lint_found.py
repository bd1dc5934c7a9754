"""lint's walk holds what it found compactly (validator.commands._lint_found): the same
paths in the same order as a plain sort of the directory, a block of names rather than an
object per file."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.commands._lint_found import BLOCK, Entries, Entry, sorted_names
from validator.commands._lint_walk import discover

NAMES = st.text(st.characters(blacklist_characters="\0/", blacklist_categories=("Cs",)),
                min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(NAMES, max_size=40), st.integers(0, 3))
def test_sorted_names_is_sorted(names, repeat):
    # runs of BLOCK names are merged: lists longer than a block are made by repeating
    many = names * (BLOCK // max(1, len(names)) + 1) * repeat if names else []
    assert list(sorted_names(iter(many))) == sorted(many)


@pytest.mark.parametrize("n", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 7])
def test_sorted_names_at_the_run_edges(n):
    rng = random.Random(n)
    names = [f"vmlinuz-{rng.randrange(10**9):09d}-{i}" for i in range(n)]
    assert list(sorted_names(names)) == sorted(names)


def test_entries_read_by_index_and_in_order_alike():
    entries = Entries()
    names = [f"vmlinuz-{i:05d}" for i in range(BLOCK + 3)]
    entries.add_names("/boot", names[:5])
    entries.append(Entry("/boot/vmlinuz", "/boot/vmlinuz-00004", link=True))
    entries.append(Entry("/x", problem="/x: cannot list the directory"))
    entries.add_names("/srv/b", names)
    expected = ([f"/boot/{n}" for n in names[:5]] + ["/boot/vmlinuz", "/x"]
                + [f"/srv/b/{n}" for n in names])
    assert len(entries) == len(expected) and entries.problems == 1
    assert [e.path for e in entries] == expected
    assert [entries[i].path for i in range(len(entries))] == expected
    assert entries[-1].path == expected[-1]
    tail = entries[6:]
    assert len(tail) == len(expected) - 6
    assert [tail[i].path for i in range(len(tail))] == expected[6:]
    with pytest.raises(IndexError):
        entries[len(expected)]
    with pytest.raises(IndexError):
        tail[len(tail)]
    # a block of names, not an object per file: two blocks for BLOCK + 3 names
    assert len(entries.blocks) == 1 + 2 + 2


def test_a_large_directory_walks_in_sorted_order_with_its_links_in_place(tmp_path):
    top = tmp_path / "boot"
    top.mkdir()
    rng = random.Random(5)
    names = {f"vmlinuz-{rng.randrange(10**8):08d}" for _ in range(BLOCK + 500)}
    for name in names:
        (top / name).write_bytes(b"")
    first = min(names)
    (top / "vmlinuz-zz-link").symlink_to(first)  # folded into its file
    (top / "vmlinuz-00000000-gone").symlink_to("nowhere")  # a problem, in its place
    (top / "README").write_bytes(b"")  # not an image
    found = discover([str(top)])
    expected = sorted(names | {"vmlinuz-00000000-gone"})
    assert [os.path.basename(e.path) for e in found.entries] == expected
    assert found.entries.problems == 1
    assert found.entries[expected.index("vmlinuz-00000000-gone")].problem is not None
    assert found.notes == [f"{top}/vmlinuz-zz-link is the same file as {top}/{first}: "
                           f"checked once, as {top}/{first}"]
    # names are held in blocks: a few objects, not one per file
    assert len(found.entries.blocks) <= len(names) // BLOCK + 3

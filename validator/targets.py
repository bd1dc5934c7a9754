"""What a host (or the kernel that will load an image) offers: arch, byte order, granules.

``--target`` takes ``ARCH[:PAGES]`` where ARCH is ``arm64``, ``arm64be``, ``ppc64``,
``ppc64le``, ``x86_64`` (``amd64``) or ``riscv64`` and PAGES a comma list of ``4k``,
``16k``, ``64k`` (the granules the CPU supports), e.g. ``arm64:4k,64k``. ``preflight`` builds a
``Target`` from ``/proc`` and ``/sys`` (or a sysroot) instead.
"""

from __future__ import annotations

_ARCHES = {
    "arm64": ("arm64", "little"),
    "aarch64": ("arm64", "little"),
    "arm64be": ("arm64", "big"),
    "aarch64_be": ("arm64", "big"),
    "ppc64": ("ppc64", "big"),
    "ppc64le": ("ppc64", "little"),
    "x86_64": ("x86_64", "little"),
    "amd64": ("x86_64", "little"),
    "riscv64": ("riscv64", "little"),
}
_PAGES = {"4k": 4096, "16k": 16384, "64k": 65536}


class TargetError(ValueError):
    """A --target value kimage cannot read."""


class Target:
    """A host or loading kernel: ``arch``, ``endianness``, the granules it supports
    (``page_sizes``, empty when unknown), whether an arm64 CPU runs either byte order
    (``mixed_endian``), its crash region and a name for reports. Not changed once made. A
    plain class: ``dataclasses`` would import ``inspect`` (39 M instructions a check)."""

    __slots__ = ("arch", "endianness", "page_sizes", "mixed_endian", "crash_base",
                 "crash_size", "name")

    def __init__(self, arch: str, endianness: str, page_sizes: frozenset[int] = frozenset(),
                 mixed_endian: bool = False, crash_base: int | None = None,
                 crash_size: int | None = None, name: str = "") -> None:
        self.arch, self.endianness, self.page_sizes = arch, endianness, page_sizes
        self.mixed_endian, self.crash_base, self.crash_size = mixed_endian, crash_base, crash_size
        self.name = name

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other) -> bool:
        return self._key() == other._key() if type(other) is Target else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "Target(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"

    def supports_page_size(self, size: int) -> bool | None:
        """True/False when the granules are known, None when they are not."""
        if not self.page_sizes:
            return None
        return size in self.page_sizes

    def describe(self) -> str:
        pages = ",".join(f"{p // 1024}k" for p in sorted(self.page_sizes)) or "any"
        return f"{self.arch} {self.endianness}-endian, pages {pages}"


def parse_target(text: str) -> Target:
    arch_text, _, pages_text = text.strip().lower().partition(":")
    if arch_text not in _ARCHES:
        raise TargetError(f"unknown target architecture {arch_text!r}; expected one of "
                          f"{', '.join(sorted(_ARCHES))}")
    arch, endianness = _ARCHES[arch_text]
    pages = set()
    for item in filter(None, pages_text.split(",")):
        if item not in _PAGES:
            raise TargetError(f"unknown page size {item!r}; expected 4k, 16k or 64k")
        pages.add(_PAGES[item])
    return Target(arch, endianness, frozenset(pages), name=text)

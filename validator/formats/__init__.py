"""THE REGISTRY: every format kimage reads, one package each.

A format package (``validator.formats.<name>``, or any importable package named here) is a
plain module, no class hierarchy:

``__init__``  its constants (magic, EM_*, offsets), declared once; imports nothing heavy
``decoder``   the check path: a wrapper's ``unwrap(view, ctx) -> Unwrapped`` functions (and
              probes beyond a magic test), named by ``UNWRAPS`` in its ``__init__``:
              ``(test(view) -> bool, probe name or None, unwrap name)`` triples, tried
              in order, the decoder imported only once a test passes; a header format
              has ``probe(view)`` and ``decode(view) -> Decoded``. A decoder declares the
              rules it reports (``validator.catalogue.rule``) and imports no rules stage.
``twin`` / ``writer``  the builder: a construct twin (parse AND build) or a writer
``rules``     a header format's checks over its facts (run by ``validator.rules.engine``)
``samples``   ``KINDS``: the seed-corpus kinds it builds (valid files and near-valid
              mutations, each with the findings kimage must report) and ``TARGETS``: its
              mutations of a real image's wrapper or header (``kimage fuzz --from``)

The pipeline, the rule listing, the check engine and the seed corpus iterate ``FORMATS``;
adding a format is one package and one entry there.
"""

from __future__ import annotations

from validator import import_module as _module

#: Every format package, in order. Each declares its ``ROLE`` in its ``__init__``:
#: "wrapper" (a layer a loader takes off: the pipeline tries their probes in this order),
#: "header" (what is decoded once no wrapper is left, directly or inside an ELF vmlinux
#: by its e_machine, ``ELF_MACHINE``) or "container" (read inside another's step: the ELF
#: of a vmlinux, the PE/COFF headers of an EFI stub). The seed corpus lists its kinds in
#: this order.
FORMATS = [
    "validator.formats.arm64_image",
    "validator.formats.ppc64_head",
    "validator.formats.x86_bzimage",
    "validator.formats.riscv64_image",
    "validator.formats.foreign",
    "validator.formats.elf",
    "validator.formats.pe",
    "validator.formats.zboot",
    "validator.formats.archpkg",
    "validator.formats.deb",
    "validator.formats.rpm",
    "validator.formats.uki",
    "validator.formats.fit",
    "validator.formats.compression",
    "validator.formats.uimage",
    "validator.formats.android",
]
ROLES = ("wrapper", "header", "container")


def packages(role: str | None = None) -> list[str]:
    """The registered format packages (of ``role``: "wrapper", "header", "container"),
    in registry order."""
    if role is None:
        return list(FORMATS)
    return list(each(role))


def each(role: str):
    """The registered packages of ``role``, in registry order, each imported only when
    the one before it did not serve (the check path stops at the first that matches, so
    an arm64 Image never imports the other formats)."""
    for name in FORMATS:
        known = _ROLE.get(name)
        if known is None:
            known = _ROLE[name] = _module(name).ROLE
        if known == role:
            yield name


_ROLE: dict[str, str] = {}  # package -> its ROLE, once imported (lint asks for every file)


def part(package: str, name: str):
    """``package.name`` imported (e.g. ``part(p, "decoder")``), or None when the package
    has no such module."""
    module = f"{package}.{name}"
    try:
        return _module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise


def unwraps():
    """Every wrapper's ``(package, probe, unwrap)``, in the order they are tried. A
    wrapper's package declares ``UNWRAPS``: ``(test, probe, unwrap)`` triples, ``test`` a
    function of the package (its magic), ``probe`` (or None: the test decides) and
    ``unwrap`` names of its decoder, which is imported only once the test passed (a
    bzImage or a ppc64 head imports no wrapper's decoder)."""
    for package in each("wrapper"):
        entries = _TRIES.get(package)
        if entries is None:
            entries = _TRIES[package] = tuple(
                (package, _probe(package, test, probe), _Unwrap(package, unwrap))
                for test, probe, unwrap in _module(package).UNWRAPS)
        yield from entries


_TRIES: dict[str, tuple] = {}


def header_probes():
    """``(package, probe)`` of every header format, in registry order. A header's package
    declares ``PROBE``: ``(test, probe)``, ``test`` a function of the package (its magic)
    or None, ``probe`` the name of its decoder's probe or None (the test decides); the
    decoder is imported only once the test passed (a riscv64 Image imports no arm64,
    ppc64 or x86 decoder)."""
    for package in each("header"):
        entry = _HEADER_TRIES.get(package)
        if entry is None:
            test, probe = _module(package).PROBE
            entry = _HEADER_TRIES[package] = (package, _probe(package, test, probe))
        yield entry


_HEADER_TRIES: dict[str, tuple] = {}


def own_magic(view) -> bool:
    """Whether a header format whose test decides alone (its magic: an arm64 or riscv64
    Image's at 0x38, a bzImage's HdrS at 0x202) matches ``view``. The pipeline then
    looks for no wrapper: no wrapper's file carries one there (a UKI's and a zboot
    image's DOS and PE headers do not, a compressed stream or archive has no such bytes
    at those offsets), and a wrapper's magic test would import every wrapper's package.
    A ppc64 head, recognised by parsing, is looked for after the wrappers."""
    if _OWN and _OWN[0] is FORMATS and _OWN[1] == len(FORMATS):
        return any(test(view) for test in _OWN[2])  # every header package was seen
    tests = []
    for _, probe in header_probes():
        if not isinstance(probe, _Probe):
            if probe(view):
                return True
            tests.append(probe)
    _OWN[:] = [FORMATS, len(FORMATS), tuple(tests)]
    return False


_OWN: list = []  # [the registry, its length, its decisive header tests], once all were seen


def _probe(package: str, test, name: str | None):
    """The test itself when it decides alone, else a ``_Probe``."""
    return test if name is None and test is not None else _Probe(package, test, name)


class _Probe:
    """A format's test, then (when it passes) its decoder's probe, if it names one."""

    __slots__ = ("package", "test", "name", "full")

    def __init__(self, package: str, test, name: str | None) -> None:
        self.package, self.test, self.name, self.full = package, test, name, None

    def __call__(self, view) -> bool:
        if self.test is not None and not self.test(view):
            return False
        if self.name is None:
            return True
        if self.full is None:
            self.full = getattr(part(self.package, "decoder"), self.name)
        return self.full(view)


class _Unwrap:
    """A wrapper decoder's unwrap function, looked up when first called."""

    __slots__ = ("package", "name", "func")

    def __init__(self, package: str, name: str) -> None:
        self.package, self.name, self.func = package, name, None

    def __call__(self, view, ctx):
        if self.func is None:
            self.func = getattr(part(self.package, "decoder"), self.name)
        return self.func(view, ctx)


def parts(name: str) -> list[str]:
    """The module names of ``name`` (``"decoder"``, ``"rules"``, ``"samples"``) of every
    package that has one, in registry order; found, not imported (a ``rules`` module
    registers its checks when imported, and the engine fixes their order), and without
    importing the packages themselves (the check path needs only some of them)."""
    return [f"{package}.{name}" for package in FORMATS if has_part(package, name)]


def has_part(package: str, name: str) -> bool:
    """Whether ``package`` has a module ``name``, found without importing it (once per
    run: the check path asks for the packages that decoded each image)."""
    key = (package, name)
    found = _HAS.get(key)
    if found is None:
        import os

        parent, _, last = package.rpartition(".")
        here = os.path.dirname(__file__)
        if parent == __name__ and os.path.isdir(os.path.join(here, last)):
            found = os.path.isfile(os.path.join(here, last, f"{name}.py"))
        else:  # a package from elsewhere (or not on a file system): ask the import system
            from importlib.util import find_spec

            found = find_spec(f"{package}.{name}") is not None
        _HAS[key] = found
    return found


_HAS: dict[tuple[str, str], bool] = {}

"""Per-loader verdicts: would this loader accept the image, and which findings decide it.

One module per real loader. Each declares ``NAME``, ``VERSIONS`` (what was read or run),
``RELEASES`` (the releases modelled, oldest first: (version, upstream tag or commit,
"run" when loadertruth runs that release here, else "read")), ``applies(ctx)`` (does the
loader handle this kind of kernel at all), ``REJECTS`` (the rule IDs whose findings make
that loader refuse the image at every release, each with the loader code that does it),
optionally ``STARTS_ZBOOT_STUB`` (True: the loader starts an EFI zboot image's own PE, whose
stub decompresses the payload it was linked with and reads none of the zboot header's
payload fields, so a zboot whose payload kimage cannot find through a misleading header,
``formats.zboot.HEADER_FIELD_RULES``, is judged by its PE, not refused for holding no kernel),
optionally ``REJECTS_BY_VERSION`` ({rule ID: (first, last, note)}: refused only from
``first`` to ``last``, inclusive, None for open) and, where a loader's behaviour depends on
more than findings, ``special(ctx, version)`` returning extra (rule ID or None, note,
rejects) entries for that release.

A loader that distributions build in more than one way also declares ``BUILDS`` ({name:
Build}: the optional libraries each build links, with the evidence), ``DEFAULT_BUILD``
(the build judged when none is named) and ``REJECTS_WITH_LIBRARY`` ({rule ID: (library,
note)}: refused only by a build that links that library); its ``special`` is then
``special(ctx, version, libraries)``. ``NAME@VERSION+BUILD`` (semver build metadata, e.g.
``kexec-tools@2.0.29+debian``) judges one build of one release.
"""

from __future__ import annotations

from validator import import_module
from validator.catalogue import rule
from validator.loaders.verdict import Build, Verdict, VersionRange  # noqa: F401  (public)
from validator.loaders.versions import (  # noqa: F401  (public names of loaders)
    LoaderSpecError,
    at_least,
    build_of,
    parse_spec,
    ranges,
    refused,
    rejects_any_version,
    rejects_at,
    release_for,
    releases,
    same_tables,
    split_build,
    version_key,
)
from validator.rules.engine import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from validator.model import Finding

LOADER_MODULES = ("kexec_tools", "kexec_file", "u_boot", "grub", "efi", "qemu")

#: The reason a build refuses a kernel whose codec it cannot undo (reported by the
#: verdicts that name it, see ``unreported``).
CODEC_NOT_LINKED = "loader/codec-not-linked"
rule(CODEC_NOT_LINKED, "info",
     "the kernel's compression needs a library that a build of the loader does not link",
     "kexec-tools undoes gzip only when built with zlib, xz and lzma only with liblzma, zstd "
     "(2.0.31+) only with libzstd: configure links each library it finds, and without one "
     "kexec/zlib.c, lzma.c or zstd.c compile to a stub that undoes nothing, so the "
     "compressed bytes are probed as they are and no probe takes them. Debian builds "
     "kexec-tools with zlib only on arm64 and without zlib on ppc64el: a zstd or xz kernel, "
     "or a zboot with a zstd or lzma payload, that an upstream build loads is refused there. "
     "The verdict of each build is in the loader's by_build; --loader "
     "kexec-tools@VERSION+debian judges Debian's build.",
     "kexec-tools v2.0.32 configure.ac (--with-zlib, --with-lzma, --with-zstd), kexec/zlib.c, "
     "kexec/lzma.c, kexec/zstd.c, kexec/kexec.c slurp_decompress_file; Debian kexec-tools "
     "1:2.0.25-3+deb12u3, 1:2.0.29-2, 1:2.0.32-3 Build-Depends (libz-dev [arm64 ia64]) and "
     "readelf -d of their kexec; loader-truth runs (loadertruth/, README 'Loader truth')",
     ("kexec-tools",))


#: The reason a release of a loader refuses a kernel it has no loader for (an architecture
#: port or an image type that came later: validator/loaders/riscv.py).
NOT_SUPPORTED = "loader/not-supported"
rule(NOT_SUPPORTED, "info",
     "this release of the loader has no loader for this kind of kernel",
     "A loader's support for an architecture, or for an image type on it, starts at a "
     "release: kexec-tools has a riscv port from 2.0.32, the kernel's kexec_file_load takes "
     "a riscv Image from 6.16 (a riscv vmlinux ELF from 5.19), GRUB boots Linux on riscv "
     "from 2.12. The loader's by_version names the releases that refuse the kernel for it.",
     "kexec-tools v2.0.32 kexec/arch/riscv (b3fd54b, b257f31); Linux 6.16 "
     "arch/riscv/kernel/kexec_image.c (809a11eea8e8); GRUB 2.06 grub-core/loader/riscv/"
     "linux.c; validator/loaders/riscv.py",
     ("kexec-tools", "kexec-file", "grub"))
#: The format of a kernel of an architecture kimage does not describe (validator/formats/
#: foreign): every loader is n/a for it.
FOREIGN = "foreign"


#: A kernel header that the file ends inside: loaders that never see the file's size
#: start it (their tables and specials decide), so it is not "no kernel".
CUT_HEADERS = frozenset({"arm64/truncated-header", "ppc64/head-truncated",
                         "riscv64/truncated-header"})
#: Findings that say a file is, by design, no kernel (a package that holds none): every
#: loader is n/a, with the finding's reason, and none REJECTS it.
NO_KERNEL_FINDINGS = {"deb/metapackage": "a metapackage: it holds no kernel to load",
                      "deb/kernel-companions": "a package of the kernel's config and "
                                               "System.map: it holds no kernel to load"}

_MODULES: list = []


def modules():
    """The loader modules, imported once (lint asks for them for every image)."""
    if not _MODULES:
        _MODULES.extend(import_module(f"validator.loaders.{name}")
                        for name in LOADER_MODULES)
    return _MODULES


def names() -> list[str]:
    return [m.NAME for m in modules()]


#: Layers of a file that is no kernel by design: no loader applies (the layer's kind ->
#: the note each loader's verdict carries).
NO_KERNEL = {"android-vendor-boot": "a vendor_boot image holds no kernel: the loaders "
                                    "judge the boot.img that goes with it",
             "android-init-boot": "an init_boot image holds the generic ramdisk, no kernel: "
                                  "the loaders judge the boot.img"}


def judge(ctx: Context, findings: list[Finding], only=None) -> dict:
    """``{loader name: Verdict}`` for every loader (or those in ``only``: names, or
    ``NAME@VERSION`` specs that judge that release, or ``NAME@VERSION+BUILD`` that judge
    that build of it).

    Without a version a loader is judged at its newest modelled release, and the verdict's
    ``by_version`` holds the ranges of older releases whose verdict differs. Without a
    build a loader with ``BUILDS`` is judged as its ``DEFAULT_BUILD``, and ``by_build``
    holds the other builds whose verdict differs at the release judged. A file in
    which no kernel was found (format "unknown", no ELF with a PT_LOAD that an ELF loader
    would load, no kernel header cut short) is refused by every loader that applies, for
    the errors that say why. Every reason a verdict names is a finding: a rule a loader's
    ``special`` names that no check reported is returned by ``unreported`` for the caller
    to report.
    """
    ctx = _Judging(ctx)
    wanted: dict[str, str | None] = {}
    for spec in only or ():
        name, version = parse_spec(spec)
        wanted[name] = version
    out = {}
    found = {f.rule for f in findings}
    elf = ctx.layer("elf")
    no_kernel = ctx.result.format == "unknown" and not (elf and elf.get("loads")) and not (
        found & CUT_HEADERS)
    why_none = sorted({f.rule for f in findings if f.severity == "error"}) or [
        "layer/unknown-format"]
    by_design = [NO_KERNEL_FINDINGS[r] for r in sorted(found & NO_KERNEL_FINDINGS.keys())]
    kernelless = next((NO_KERNEL[layer.kind] for layer in ctx.result.layers
                       if layer.kind in NO_KERNEL), None)
    if kernelless is not None:
        by_design.append(kernelless)
    foreign = ctx.result.format == FOREIGN
    zboot_pe = no_kernel and ctx.layer("zboot") is not None and _misleading_zboot(found)
    for module in modules():
        if wanted and module.NAME not in wanted:
            continue
        asked = wanted.get(module.NAME)
        version, build = split_build(asked) if asked else (None, None)
        modelled = releases(module)
        newest = modelled[-1]
        if by_design:
            v = Verdict(module.NAME, "n/a", notes=by_design[:1], version=version or newest)
            v.by_version = None
            out[module.NAME] = v
            continue
        applies = foreign or module.applies(ctx)
        missing = no_kernel and not (zboot_pe and _optional(module, "STARTS_ZBOOT_STUB"))
        if foreign or not applies or missing:
            v = (Verdict(module.NAME, "n/a", notes=[
                f"kimage does not describe {ctx.facts.get('arch')} kernels"],
                version=version or newest) if foreign else
                 Verdict(module.NAME, "n/a", notes=[getattr(module, "NOT_APPLICABLE", "")],
                         version=version or newest) if not applies else
                 Verdict(module.NAME, "reject", list(why_none),
                         ["no kernel image was found in the file"], version=version or newest))
            _set_build(ctx, module, v, build)
            if version is not None:
                v.by_version = None
            out[module.NAME] = v
            continue
        if version is not None:
            v = _judge_release(ctx, module, found, release_for(module, version), build)
            v.version, v.by_version = version, None
        else:
            per = _releases(ctx, module, found, modelled, build)
            v = per[-1][1]
            v.by_version = ranges(per, v)
        if build is None and _optional(module, "BUILDS"):
            release = release_for(module, version or newest)
            v.by_build = [b for b in (_judge_release(ctx, module, found, release, name)
                                      for name in module.BUILDS
                                      if name != module.DEFAULT_BUILD)
                          if (b.verdict, b.reasons) != (v.verdict, v.reasons)]
        out[module.NAME] = v
    return out


class _Judging(Context):
    """The image's ``Context`` while the loaders judge it, with what every loader asks at
    every release worked out once: the rule IDs of its findings (``found``) and its
    layers' dicts (``layer``; read only)."""

    __slots__ = ("found", "_layers", "once")

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.result, ctx.config, ctx.symbols, ctx.target)
        self.found = frozenset(f.rule for f in ctx.result.findings)
        self._layers: dict = {}
        self.once: dict = {}  # per_image's answers

    def layer(self, kind: str) -> dict | None:
        try:
            return self._layers[kind]
        except KeyError:
            found = self._layers[kind] = super().layer(kind)
            return found


def per_image(question):
    """``question(ctx)``, asked once per image while the loaders judge it (a question that
    does not change with the release, such as whether a loader's x86 or riscv half judges
    the image: every loader asks it at every release, about 40 times an image)."""

    def once(ctx):
        if type(ctx) is not _Judging:
            return question(ctx)
        try:
            return ctx.once[question]
        except KeyError:
            answer = ctx.once[question] = question(ctx)
            return answer

    once.__doc__, once.__wrapped__ = question.__doc__, question
    return once


def found(ctx) -> frozenset[str] | set[str]:
    """The rule IDs of the findings of ``ctx``'s image (worked out once per image while the
    loaders judge it)."""
    if type(ctx) is _Judging:
        return ctx.found
    return {f.rule for f in ctx.result.findings}


def _set_build(ctx: Context, module, v: Verdict, build: str | None) -> tuple[str, ...] | None:
    """Record on ``v`` the build judged (``build``, else the module's default) and its
    libraries on the image's architecture; return those libraries (None for a loader
    without BUILDS: every refusal a library brings applies)."""
    if not _optional(module, "BUILDS"):
        return None
    return _record_build(v, build_of(module, build, ctx.facts.get("arch")), build)


def _record_build(v: Verdict, chosen: tuple, build: str | None) -> tuple[str, ...]:
    """Record ``build_of``'s ``chosen`` build on ``v``; its libraries."""
    name, libraries, title, note = chosen
    if note is not None:
        v.notes.append(note)
    v.build, v.libraries, v.title = name, libraries, title
    if build is None:
        v.by_build = []
    return libraries


_OPTIONAL: dict = {}  # (loader module, name) -> its attribute or None, once per run


def _misleading_zboot(found: set[str]) -> bool:
    """A zboot whose header's payload fields mislead: its own stub, which reads none of
    them, still runs (a payload that fails to decode, or is no kernel, stops it too)."""
    from validator.formats.zboot import HEADER_FIELD_RULES

    return not found.isdisjoint(HEADER_FIELD_RULES)


def _optional(module, name: str):
    """``module.<name>``, or None for a loader module without it (``special``,
    ``BUILDS``); looked up once a run: a missing module attribute costs a formatted
    AttributeError each time it is asked for, and lint asks about 20 times an image."""
    try:
        return _OPTIONAL[module, name]
    except KeyError:
        found = _OPTIONAL[module, name] = getattr(module, name, None)
        return found


def _judge_release(ctx: Context, module, found: set[str], release: str,
                   build: str | None = None) -> Verdict:
    return _releases(ctx, module, found, [release], build)[0][1]


def _releases(ctx: Context, module, found, modelled: list[str], build: str | None) -> list:
    """[(release, Verdict)] for each of ``modelled``: what ``_judge_release`` gives at
    each, with the build and ``special`` looked up once (they do not change with the
    release; lint judges some 18 releases an image)."""
    special = _optional(module, "special")
    chosen = (build_of(module, build, ctx.facts.get("arch"))
              if _optional(module, "BUILDS") else None)
    if special is None and chosen is None and len(modelled) > 1 and same_tables(module):
        # its tables alone decide, the same at every release: one verdict, the newest's
        newest = modelled[-1]
        v = _decide(ctx, module, found, newest, Verdict(module.NAME, "accept", version=newest),
                    None, None)
        return [(release, v) for release in modelled]
    out = []
    for release in modelled:
        v = Verdict(module.NAME, "accept", version=release)
        libraries = None if chosen is None else _record_build(v, chosen, build)
        out.append((release, _decide(ctx, module, found, release, v, libraries, special)))
    return out


def _decide(ctx: Context, module, found, release: str, v: Verdict, libraries, special):
    """``v`` with the verdict at ``release``: the refusals of the module's tables among
    the image's findings, then what ``special`` says."""
    reasons = sorted(found & refused(module, release, libraries))
    notes, why = v.notes, {}
    entries = () if special is None else (
        special(ctx, release) if libraries is None else special(ctx, release, libraries))
    for rule_id, note, rejects in entries:
        if rejects and rule_id and rule_id not in reasons:
            reasons.append(rule_id)
            why[rule_id] = note
        notes.append(note)
    v.verdict = "reject" if reasons else "accept"
    v.reasons, v.notes, v.why = reasons, list(filter(None, notes)), why
    return v


def unreported(verdicts: dict, findings: list[Finding]) -> list[Finding]:
    """Findings for the reasons verdicts name that no check reported (a loader's own
    refusal, such as QEMU not unwrapping a uImage of another type), one per rule, its
    message the loaders' notes and its ``loaders`` the loaders that refuse for it."""
    from validator.rules.registry import finding

    found = {f.rule for f in findings}
    by_rule: dict[str, list[str]] = {}
    why: dict[tuple[str, str], str] = {}
    for name, v in verdicts.items():
        for each in (v, *(r.verdict for r in v.by_version or ()), *(v.by_build or ())):
            for rule_id in each.reasons:
                if rule_id in found:
                    continue
                if name not in by_rule.setdefault(rule_id, []):
                    by_rule[rule_id].append(name)
                if rule_id in each.why:  # a build asked for or in by_build says which
                    named = any(each is b for b in v.by_build or ()) or (
                        each is v and v.build is not None and v.by_build is None)
                    why.setdefault((name, rule_id), f"{each.title}: {each.why[rule_id]}"
                                   if named else each.why[rule_id])
    out = []
    for rule_id, names in by_rule.items():
        notes = [f"{n}: {why[n, rule_id]}" for n in names if (n, rule_id) in why]
        f = finding(rule_id, "; ".join(notes) or f"refused by {', '.join(names)}")
        f.loaders = names
        out.append(f)
    return out

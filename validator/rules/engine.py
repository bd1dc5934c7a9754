"""Run the checks on a decoded image: each check sees a ``Context`` and yields findings.

An image is judged by the layer checks, by the ``rules`` of each format package that
decoded part of it (``ImageResult.decoded_by``: a format's checks judge only what it
decoded), and by the cross-format checks when a config, a System.map or a target is given
(each of those needs one). Only those modules are imported, and their checks run in the
order of ``check_modules``, whatever was imported before.

A check that raises is a bug in kimage: its exception becomes a ``kimage/internal-error``
finding naming the check, and the other checks still run.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.rules.registry import GIVEN_MODULES, LAYER_MODULE, check_modules

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from validator.kconfig import KernelConfig
    from validator.model import Finding, ImageResult
    from validator.sysmap import SymbolMap
    from validator.targets import Target

    Check = Callable[["Context"], Iterable[Finding]]

rule("kimage/internal-error", "error",
     "a check failed inside kimage",
     "A check raised an exception instead of judging the image; the image was not fully "
     "checked. This is a bug in kimage: please report it with the image's header bytes.",
     "kimage issue tracker")


#: e_machine names (as the ELF layer reports them) of the kernels kimage describes.
_ELF_ARCH = {"EM_PPC64": "ppc64", "EM_PPC": "ppc64", "EM_AARCH64": "arm64",
             "EM_RISCV": "riscv64"}


class Context:
    """What a check sees: the decoded image and what the user gave beside it."""

    __slots__ = ("result", "config", "symbols", "target")

    def __init__(self, result: ImageResult, config: KernelConfig | None = None,
                 symbols: SymbolMap | None = None, target: Target | None = None) -> None:
        self.result, self.config, self.symbols, self.target = result, config, symbols, target

    @property
    def facts(self) -> dict:
        return self.result.facts

    @property
    def header(self) -> dict:
        return self.result.header

    def arch(self) -> str | None:
        """The kernel's architecture: the facts' or, where no header was recognised, the
        ELF's e_machine (a vmlinux whose head is unrecognised is still a ppc64 ELF)."""
        arch = self.result.facts.get("arch")
        if arch is None:
            elf = self.layer("elf")
            arch = _ELF_ARCH.get(elf.get("machine")) if elf else None
        return arch

    def loaded_size(self) -> int | None:
        """Bytes of the image a loader copies, from its start: the payload, or for an ELF
        vmlinux the span of its PT_LOAD segments' file contents (a non-relocatable arm64
        vmlinux has several)."""
        elf = self.layer("elf")
        loads = elf.get("loads") if elf else None
        if loads:
            base = loads[0]["vaddr"]
            return max(load["vaddr"] + load["filesz"] for load in loads) - base
        return self.result.payload_size

    def layer(self, kind: str) -> dict | None:
        for layer in self.result.layers:
            if layer.kind == kind:
                return layer.to_dict()
        return None


class Registered:
    """A check function with the formats it judges (empty: every format, "unknown"
    included) and what it needs given (of "config", "symbols", "target")."""

    __slots__ = ("func", "formats", "needs")

    def __init__(self, func: Check, formats: frozenset[str], needs: frozenset[str]) -> None:
        self.func, self.formats, self.needs = func, formats, needs


CHECKS: list[Registered] = []


def check(*, formats: Iterable[str] = (), needs: Iterable[str] = ()):
    """Register a check for the given formats that runs only when ``needs`` are given."""
    def register(func: Check) -> Check:
        CHECKS.append(Registered(func, frozenset(formats), frozenset(needs)))
        return func
    return register


def load_checks() -> list[Registered]:
    """Import every module that registers checks; every registered check."""
    _import(check_modules())
    return CHECKS


def _import(names) -> None:
    from validator import import_module

    for name in names:
        import_module(name)


def modules_for(result: ImageResult, given=()) -> tuple[str, ...]:
    """The check modules that judge ``result`` (see the module), in report order."""
    from validator import formats

    registry = formats.FORMATS  # check_modules()'s order, without a look at every package
    decoded = sorted({p for p in result.decoded_by if p in registry}, key=registry.index)
    return (LAYER_MODULE, *(f"{p}.rules" for p in decoded if formats.has_part(p, "rules")),
            *(GIVEN_MODULES if given else ()))


_SELECTED: dict = {}


def checks_for(result: ImageResult, given=()) -> list[Registered]:
    """The registered checks of ``modules_for(result, given)``, in report order (lint
    asks for every image: one selection per set of modules)."""
    names = modules_for(result, given)
    key = (names, id(CHECKS), len(CHECKS))
    if key not in _SELECTED:
        _import(names)
        rank = {name: i for i, name in enumerate(names)}
        _SELECTED[key] = sorted((r for r in CHECKS if r.func.__module__ in rank),
                                key=lambda r: rank[r.func.__module__])
    return _SELECTED[key]


def run_checks(ctx: Context) -> list[Finding]:
    given = {name for name in ("config", "symbols", "target") if getattr(ctx, name) is not None}
    findings: list[Finding] = []
    for registered in checks_for(ctx.result, given):
        if registered.formats and ctx.result.format not in registered.formats:
            continue
        if not registered.needs <= given:
            continue
        try:
            findings.extend(registered.func(ctx))
        except Exception as exc:  # a check's bug must not hide the other checks' findings
            name = f"{registered.func.__module__}.{registered.func.__name__}"
            findings.append(finding("kimage/internal-error",
                                    f"check {name} raised {type(exc).__name__}: {exc}"))
    return findings

"""Loader releases and builds as users name them: ``NAME[@VERSION[+BUILD]]`` specs, the
order of versions, the modelled release that stands for a version, what a loader
module's tables refuse at a release (worked out once per run: lint asks for every image),
and the ranges of releases whose verdict differs from the newest one's."""

from __future__ import annotations

from functools import lru_cache

from validator.loaders.verdict import Verdict, VersionRange


class LoaderSpecError(ValueError):
    """A ``NAME[@VERSION]`` that names no modelled loader or release."""


@lru_cache(maxsize=4096)  # lint asks for the same few releases for every image
def version_key(version: str) -> tuple:
    """"2.0.29" -> (2, 0, 29); "2025.01" -> (2025, 1); non-numeric parts sort first; build
    metadata ("+debian") does not count, as in semver."""
    return tuple(int(p) if p.isascii() and p.isdigit() else -1
                 for p in version.partition("+")[0].replace("-", ".").split("."))


def at_least(version: str, first: str) -> bool:
    return version_key(version) >= version_key(first)


def releases(module) -> list[str]:
    """The releases ``module`` models, oldest first (listed once per run; not to be
    changed by the caller)."""
    found = _RELEASES.get(module)
    if found is None:
        found = _RELEASES[module] = [r[0] for r in module.RELEASES]
    return found


_RELEASES: dict = {}


def split_build(version: str) -> tuple[str, str | None]:
    """"2.0.29+debian" -> ("2.0.29", "debian"); "2.0.29" -> ("2.0.29", None)."""
    release, plus, build = version.partition("+")
    return release, (build if plus else None)


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"kexec-tools@2.0.29"`` -> ("kexec-tools", "2.0.29"), checked against the models;
    ``"kexec-tools@2.0.29+debian"`` -> ("kexec-tools", "2.0.29+debian"): the version
    carries the build as semver build metadata (``split_build`` parts them).

    A version between two modelled releases is judged as the older one (nothing changed
    in between that the model knows of); one before the oldest modelled is refused, and
    so is a build the loader does not model."""
    name, _, version = spec.partition("@")
    from validator.loaders import modules

    by_name = {m.NAME: m for m in modules()}
    module = by_name.get(name)
    if module is None:
        raise LoaderSpecError(f"unknown loader {name}; expected {', '.join(by_name)}")
    if not _:
        return name, None
    known = releases(module)
    release, build = split_build(version)
    plain = release.replace(".", "").replace("-", "")
    if not (plain.isascii() and plain.isalnum() and release[:1].isdigit()):
        raise LoaderSpecError(f"{spec}: expected {name}@VERSION, e.g. {name}@{known[-1]}")
    if build is not None:
        builds = getattr(module, "BUILDS", None)
        if not builds:
            raise LoaderSpecError(f"{spec}: {name} has no builds modelled; expected "
                                  f"{name}@VERSION, e.g. {name}@{known[-1]}")
        if build not in builds:
            raise LoaderSpecError(f"{spec}: unknown build {build!r} of {name}; expected "
                                  f"{name}@VERSION+BUILD, BUILD one of {', '.join(builds)}")
    if version_key(release) < version_key(known[0]):
        raise LoaderSpecError(f"{spec}: {name} is modelled from {known[0]} "
                              f"(releases {', '.join(known)})")
    return name, version


def release_for(module, version: str) -> str:
    """The modelled release that stands for ``version``: the newest one not after it."""
    key = (module, version)
    found = _RELEASE_FOR.get(key)
    if found is None:
        found = [r for r in releases(module) if version_key(r) <= version_key(version)][-1]
        if len(_RELEASE_FOR) < 4096:
            _RELEASE_FOR[key] = found
    return found


#: (loader module, version) -> release_for's answer: the tables do not change in a run.
_RELEASE_FOR: dict = {}


def rejects_at(module, version: str, libraries: tuple[str, ...] | None = None
               ) -> dict[str, str]:
    """{rule ID: note} of the findings that make ``module`` refuse at ``version`` (built
    with ``libraries``; None: every refusal a library brings)."""
    out = dict(module.REJECTS)
    for rule_id, (first, last, note) in getattr(module, "REJECTS_BY_VERSION", {}).items():
        if (first is None or at_least(version, first)) and (
                last is None or at_least(last, version)):
            out[rule_id] = note
    for rule_id, (library, note) in getattr(module, "REJECTS_WITH_LIBRARY", {}).items():
        if libraries is None or library in libraries:
            out[rule_id] = note
    return out


def rejects_any_version(module) -> set[str]:
    """Rule IDs ``module``'s tables refuse for at one release (or build) or more."""
    return (set(module.REJECTS) | set(getattr(module, "REJECTS_BY_VERSION", {}))
            | set(getattr(module, "REJECTS_WITH_LIBRARY", {})))


#: Bound of each once-per-run table (the modules and releases are few; a caller's odd
#: library tuples must not grow them without end).
MEMO_MAX = 4096
_REFUSED: dict = {}


def refused(module, release: str, libraries: tuple[str, ...] | None) -> frozenset[str]:
    """``rejects_at``'s rule IDs, worked out once per run for each (module, release,
    libraries): lint judges every image at every modelled release of every loader."""
    key = (module, release, libraries)
    found = _REFUSED.get(key)
    if found is None:
        found = frozenset(rejects_at(module, release, libraries))
        if len(_REFUSED) < MEMO_MAX:
            _REFUSED[key] = found
    return found


_BUILD_OF: dict = {}


def build_of(module, build: str | None, arch: str | None) -> tuple:
    """(name, libraries, title, note or None) of the build of ``module`` (one of its
    ``BUILDS``) judged on ``arch``: ``build``, else the module's default; once per run."""
    key = (module, build, arch)
    chosen = _BUILD_OF.get(key)
    if chosen is None:
        chosen = _build_of(module, module.BUILDS, build, arch)
        if len(_BUILD_OF) < MEMO_MAX:
            _BUILD_OF[key] = chosen
    return chosen


def _build_of(module, builds: dict, build: str | None, arch: str | None) -> tuple:
    """(name, libraries, title, note or None) of the build judged on ``arch``."""
    default = builds[module.DEFAULT_BUILD]
    chosen = builds[build or module.DEFAULT_BUILD]
    libraries = chosen.libraries(arch)
    note = None
    if libraries is None:  # that build is not known on this architecture
        libraries = default.libraries(arch) or ()
        note = (f"{chosen.title} on {arch or 'this architecture'} is not modelled: "
                f"judged as {default.title}")
    return chosen.name, libraries, chosen.title, note


def same_tables(module) -> bool:
    """True when every modelled release of ``module`` refuses the same rules (asked once
    a run: lint judges every image at every release)."""
    same = _SAME_TABLES.get(module)
    if same is None:
        same = _SAME_TABLES[module] = len({refused(module, r, None)
                                           for r in releases(module)}) == 1
    return same


_SAME_TABLES: dict = {}


def ranges(per: list, newest: Verdict) -> list[VersionRange]:
    """Runs of consecutive releases with the same verdict and reasons, for the runs that
    differ from the newest release's."""
    out: list[VersionRange] = []
    previous: tuple | None = None  # (verdict, reasons) of the release before
    for release, v in per:
        key = (v.verdict, v.reasons)
        if out and key == previous and key != (newest.verdict, newest.reasons):
            out[-1].last = release
        elif key != (newest.verdict, newest.reasons):
            out.append(VersionRange(release, release, v))
        previous = key
    return out

"""Loader releases and builds as users name them: ``NAME[@VERSION[+BUILD]]`` specs, the
order of versions, and the modelled release that stands for a version."""

from __future__ import annotations

from functools import lru_cache


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
    return [r[0] for r in module.RELEASES]


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

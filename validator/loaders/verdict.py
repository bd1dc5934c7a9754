"""What a loader's judgement of an image is made of: a ``Verdict`` (at one release, of one
build), the ``VersionRange`` of releases that share one, and a ``Build`` (the optional
libraries a way of building the loader links). validator.loaders makes them; the loader
modules declare their ``BUILDS`` with ``Build``."""

from __future__ import annotations


class Verdict:
    """One loader's verdict: "accept", "reject" or "n/a"; ``reasons`` are the rule IDs
    that decide a rejection."""

    __slots__ = ("loader", "verdict", "reasons", "notes", "why", "version", "by_version",
                 "build", "libraries", "title", "by_build")

    def __init__(self, loader: str, verdict: str, reasons: list[str] | None = None,
                 notes: list[str] | None = None, version: str | None = None) -> None:
        self.loader, self.verdict = loader, verdict
        self.reasons = [] if reasons is None else reasons
        self.notes = [] if notes is None else notes
        self.why: dict[str, str] = {}  # rule ID -> the loader's own note, for ``unreported``
        self.version = version  # the release judged
        #: releases (oldest first) whose verdict differs from this one, as ranges; None
        #: when one release was asked for
        self.by_version: list[VersionRange] | None = []
        #: the build judged, its optional libraries and its title (loaders with BUILDS only)
        self.build: str | None = None
        self.libraries: tuple[str, ...] = ()
        self.title = ""
        #: the other builds whose verdict at this release differs; None when a build was
        #: asked for (and for loaders without BUILDS)
        self.by_build: list[Verdict] | None = None

    def __eq__(self, other: object) -> bool:
        return type(other) is Verdict and (self.loader, self.to_dict()) == (
            other.loader, other.to_dict())

    __hash__ = None

    def __repr__(self) -> str:
        return f"Verdict({self.loader!r}, {self.verdict!r}, {self.reasons!r})"

    def to_dict(self) -> dict:
        out = {"verdict": self.verdict, "reasons": self.reasons, "notes": self.notes,
               "version": self.version}
        if self.by_version is not None:
            out["by_version"] = [r.to_dict() for r in self.by_version]
        if self.build is not None:
            out["build"], out["libraries"] = self.build, list(self.libraries)
        if self.by_build is not None:
            out["by_build"] = [{"build": b.build, "title": b.title,
                                "libraries": list(b.libraries), "verdict": b.verdict,
                                "reasons": b.reasons, "notes": b.notes}
                               for b in self.by_build]
        return out


class Build:
    """One way a loader is built: the optional libraries it links, and the distribution's
    patches that change a verdict (``NAME.patch``), by architecture (kimage's ``arch``
    fact; the key None stands for every architecture not listed), and where that was
    read."""

    __slots__ = ("name", "title", "by_arch", "evidence")

    def __init__(self, name: str, title: str, by_arch: dict[str | None, tuple[str, ...]],
                 evidence: str) -> None:
        self.name, self.title, self.by_arch, self.evidence = name, title, by_arch, evidence

    def libraries(self, arch: str | None) -> tuple[str, ...] | None:
        """The libraries this build links on ``arch``; None when that is not known."""
        return self.by_arch.get(arch, self.by_arch.get(None))


class VersionRange:
    """Releases ``first`` to ``last`` (modelled releases, inclusive) that share a verdict."""

    __slots__ = ("first", "last", "verdict")

    def __init__(self, first: str, last: str, verdict: Verdict) -> None:
        self.first, self.last, self.verdict = first, last, verdict

    def to_dict(self) -> dict:
        v = self.verdict
        return {"from": self.first, "to": self.last, "verdict": v.verdict,
                "reasons": v.reasons, "notes": v.notes}

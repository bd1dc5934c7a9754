"""Baselines: today's findings recorded, so that the next runs report only new ones.

A finding is known by its fingerprint, made of what stays the same when the same kernel
is built again and changes when it is another kernel or another defect:

- the rule ID;
- the image: its path under the scanned root (the PATH or IMAGE given on the command
  line; a file given itself is its base name), with version-like parts as ``*``
  (``vmlinuz-6.1.0-50-arm64`` → ``vmlinuz-*-arm64``), so a build directory that changes
  from run to run does not matter;
- the version of the kernel in it: a package's version from its file name
  (``NAME_VERSION_ARCH.deb``, as dpkg-name names it; a binNMU suffix ``+bN``, a rebuild,
  dropped), else the kernel release its banner gives (``uname -r``), else the
  version-like parts of its path (``6.1.0-50``), else "";
- the header field the finding is about ("" for none).

Messages (which quote sizes and offsets) and the file's bytes are not part of it. A
rebuilt kernel matches its baseline; a new kernel version does not. The same fingerprint
twice in a run (two roots holding the same file name) is counted: a baseline entry
matches as many findings as its ``count``. Entries that match nothing any more are
*stale* (the defect was fixed, or the image is gone): listed, never an error.
"""

from __future__ import annotations

import os
import re

FORMAT = "kimage-baseline/1"

_VERSION = re.compile(r"(?<![A-Za-z0-9])\d+(?:\.\d+)+(?:-\d+)*(?:[+~][A-Za-z0-9.+~]*)?")
_DEB = re.compile(r"^(?P<name>[^_/]+)_(?:\d+%3a)?(?P<version>[^_/]+)_(?P<arch>[^_/]+)\.deb$")
_BINNMU = re.compile(r"\+b\d+$")


class BaselineError(Exception):
    """A baseline file that cannot be read or is not a kimage baseline (one line)."""


# --- where an image is, and what it is --------------------------------------------------

def root_of(path: str, roots) -> str | None:
    """The scanned root ``path`` was found under: the longest of ``roots`` it is, or is
    inside; None when it is under none."""
    best = None
    p = os.path.normpath(path)
    for root in roots:
        r = os.path.normpath(root)
        under = p == r or p.startswith(r.rstrip("/") + "/") or (r == "." and p[:1] != "/")
        if under and (best is None or len(r) > len(best)):
            best = r
    return best


def relative(path: str, roots) -> tuple[str | None, str]:
    """(the scanned root, ``path`` under it as a POSIX path). A root that is the file
    itself gives (its directory, its base name); no root gives (None, path)."""
    root = root_of(path, roots)
    p = os.path.normpath(path)
    if root is None:
        return None, p
    if p == root:
        return os.path.dirname(root) or ".", os.path.basename(p)
    if root == ".":  # the working directory: the path as given ("." parts dropped)
        from pathlib import PurePath

        return root, PurePath(path).as_posix()
    return root, os.path.relpath(p, root)


def pattern(rel: str) -> str:
    """``rel`` with each version-like part (``6.1.0-50``, ``6.1.176-1+deb12u1``) as ``*``."""
    return _VERSION.sub("*", rel)


def identity(result, roots) -> tuple[str, str]:
    """(image pattern, version) of an ImageResult: see the module's description."""
    _, rel = relative(result.path, roots)
    deb = _DEB.match(os.path.basename(rel))
    if deb:
        version = _BINNMU.sub("", deb["version"].replace("%3a", ":"))
    else:
        version = ((result.facts or {}).get("kernel_version")
                   or ",".join(_VERSION.findall(rel)))
    return pattern(rel), str(version)


def fingerprint(rule: str, image: str, version: str, field: str) -> str:
    key = "\0".join((FORMAT, rule, image, version, field))
    return _sha256(key.encode("utf-8", "surrogateescape"))[:32]


def _sha256(data: bytes) -> str:
    """SHA-256 of ``data`` in hexadecimal, by CPython's own implementation when it was
    built with one (``_sha2`` from 3.12, ``_sha256`` in 3.11): ``hashlib`` first loads
    OpenSSL, 11 M instructions, a ninth of a check in a CI format. The digest is the
    same; without that module, hashlib's."""
    if not _SHA256:
        for name in ("_sha2", "_sha256", "hashlib"):
            try:
                _SHA256.append(__import__(name).sha256)
                break
            except (ImportError, AttributeError):
                continue
    return _SHA256[0](data).hexdigest()


_SHA256: list = []


def keyed(result, roots):
    """[(finding, fingerprint, (image, version))] for each finding of ``result``."""
    image, version = identity(result, roots)
    return [(f, fingerprint(f.rule, image, version, f.field or ""), (image, version))
            for f in result.findings]


class Unique:
    """Fingerprints made unique within one report (GitLab, SARIF): the n-th repeat of a
    fingerprint (n ≥ 1) gets ``:n`` hashed in."""

    def __init__(self) -> None:
        # a report of 100,000 images holds a few hundred thousand: each is kept as its 16
        # bytes in one table (_Keys), and a count only for those that repeat
        self.seen = _Keys()
        self.other: set = set()  # what is not 32 hexadecimal digits (none of kimage's)
        self.repeats: dict = {}

    def __call__(self, fp: str) -> str:
        key = _packed(fp)
        if self.seen.add(key) if type(key) is bytes else _added(self.other, key):
            return fp
        n = self.repeats.get(key, 1)
        self.repeats[key] = n + 1
        return _sha256(f"{fp}:{n}".encode())[:32]


def _added(seen: set, key) -> bool:
    if key in seen:
        return False
    seen.add(key)
    return True


class _Keys:
    """A set of 16-byte keys (fingerprints: their first 8 bytes are as good as random) in
    one bytearray, open addressing with linear probing, at most three quarters full:
    21 to 43 bytes a key, where a ``set`` of ``bytes`` takes about 90."""

    _EMPTY = bytes(16)

    def __init__(self) -> None:
        self.table = bytearray(16 * 1024)
        self.count = 0
        self.empty_seen = False  # the all-zero key, which marks an empty slot

    def add(self, key: bytes) -> bool:
        """Add ``key``; whether it was not there."""
        if key == self._EMPTY:
            was, self.empty_seen = self.empty_seen, True
            return not was
        table, mask = self.table, len(self.table) // 16 - 1
        i = int.from_bytes(key[:8], "little") & mask
        while True:
            slot = table[16 * i:16 * i + 16]
            if slot == key:
                return False
            if slot == self._EMPTY:
                break
            i = (i + 1) & mask
        table[16 * i:16 * i + 16] = key
        self.count += 1
        if 4 * self.count > 3 * (mask + 1):
            self._grow()
        return True

    def _grow(self) -> None:
        old, empty = self.table, self._EMPTY
        table = self.table = bytearray(2 * len(old))
        mask = len(table) // 16 - 1
        for at in range(0, len(old), 16):
            key = old[at:at + 16]
            if key == empty:
                continue
            i = int.from_bytes(key[:8], "little") & mask
            while table[16 * i:16 * i + 16] != empty:
                i = (i + 1) & mask
            table[16 * i:16 * i + 16] = key


def _packed(fp: str) -> bytes | str:
    """A fingerprint's 32 lower-case hex digits as 16 bytes (anything else as it is)."""
    if len(fp) == 32 and not fp.strip("0123456789abcdef"):
        return bytes.fromhex(fp)
    return fp


# --- the file ---------------------------------------------------------------------------

class Recorder:
    """The findings of results as they come, for ``--write-baseline``."""

    def __init__(self, roots) -> None:
        self.roots = roots
        self.entries: dict[str, dict] = {}

    def add(self, result) -> None:
        for f, fp, (image, version) in keyed(result, self.roots):
            entry = self.entries.get(fp)
            if entry is None:
                self.entries[fp] = {"fingerprint": fp, "rule": f.rule, "image": image,
                                    "version": version, "field": f.field or "", "count": 1,
                                    "message": f.message}
            else:
                entry["count"] += 1

    def document(self) -> dict:
        """The ``kimage-baseline/1`` document, entries sorted by image, version, rule."""
        from validator import __version__
        from validator.textsafe import json_value

        findings = sorted(self.entries.values(), key=lambda e: (
            e["image"], e["version"], e["rule"], e["field"], e["fingerprint"]))
        return json_value({"format": FORMAT, "tool": {"name": "kimage",
                                                      "version": __version__},
                           "findings": findings})

    def render(self) -> str:
        import json

        return json.dumps(self.document(), indent=1, ensure_ascii=False) + "\n"


class Baseline:
    """A baseline read from a file; ``keep`` drops the findings it knows."""

    #: about 27,000 entries; reading one this size peaks at about 50 MiB RSS
    MAX_BYTES = 8 << 20

    def __init__(self, path: str, entries: list[dict]) -> None:
        self.path = path
        self.entries = {e["fingerprint"]: e for e in entries}
        self.left = {e["fingerprint"]: e["count"] for e in entries}
        self.matched = 0

    @classmethod
    def load(cls, path: str) -> Baseline:
        import json

        from validator.source import InputError, open_regular

        try:
            fd, st = open_regular(path, what="--baseline")
        except InputError as exc:
            raise BaselineError(str(exc)) from None
        try:
            if st.st_size > cls.MAX_BYTES:
                raise BaselineError(f"--baseline {path}: {st.st_size} bytes; a baseline is at most "
                                    f"{cls.MAX_BYTES >> 20} MiB")
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read(cls.MAX_BYTES + 1)
        except OSError as exc:
            raise BaselineError(f"--baseline {path}: cannot read: {exc.strerror or exc}") from None
        finally:
            os.close(fd)
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as exc:
            first = str(exc).splitlines()[0]
            raise BaselineError(f"--baseline {path}: not JSON ({first})") from None
        problem = _problem(doc)
        if problem:
            raise BaselineError(f"--baseline {path}: not a {FORMAT} file: {problem}")
        return cls(path, doc["findings"])

    def keep(self, result, roots):
        """``result`` with the findings this baseline knows removed (each entry matches
        up to ``count`` findings, in the order they come)."""
        kept = []
        for f, fp, _ in keyed(result, roots):
            if self.left.get(fp, 0) > 0:
                self.left[fp] -= 1
                self.matched += 1
            else:
                kept.append(f)
        if len(kept) != len(result.findings):
            result.findings = kept
        return result

    def stale(self) -> list[dict]:
        """Entries that matched fewer findings than their count, with how many did not."""
        return [{**self.entries[fp], "unmatched": n} for fp, n in self.left.items() if n > 0]


def _problem(doc) -> str | None:
    """Why ``doc`` is not a baseline document, or None."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return f'"format" is not "{FORMAT}"'
    findings = doc.get("findings")
    if not isinstance(findings, list):
        return '"findings" is not a list'
    for i, e in enumerate(findings):
        if not isinstance(e, dict):
            return f"findings[{i}] is not an object"
        fp, count = e.get("fingerprint"), e.get("count")
        if not isinstance(fp, str) or not re.fullmatch(r"[0-9a-f]{32}", fp):
            return f"findings[{i}].fingerprint is not 32 hexadecimal digits"
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            return f"findings[{i}].count is not a positive integer"
        for key in ("rule", "image", "version", "field"):
            if not isinstance(e.get(key), str):
                return f"findings[{i}].{key} is not a string"
    return None

"""Packaging: `python -m build` makes a wheel and an sdist that install with pip (and pipx)
into a clean virtual environment, where `kimage --version` and a check run.

Expected values come from pyproject.toml read with tomllib, not from the package. The
build runs on a copy of the checkout (nothing is written into it). It needs the `build`
frontend (the test extra) and a package index for the build backend and the runtime
dependencies (as `make test` does); without one the tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NAME, VERSION = PYPROJECT["project"]["name"], PYPROJECT["project"]["version"]
IMAGE = ROOT / "corpus/synthetic/arm64/v5.8-4k-le-anywhere-efi.img"
OFFLINE = ("Could not find a version that satisfies", "No matching distribution",
           "Failed to establish a new connection", "Temporary failure in name resolution",
           "Network is unreachable", "ProxyError")

pytestmark = pytest.mark.slow


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=300, **kw)


def _offline(p: subprocess.CompletedProcess) -> bool:
    return any(s in p.stdout + p.stderr for s in OFFLINE)


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("build", reason="the `build` frontend (pip install '.[test]')")
    tmp = tmp_path_factory.mktemp("dist")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "node_modules", "__pycache__", "*.egg-info",
        ".pytest_cache", ".ruff_cache", ".hypothesis"))
    p = _run([sys.executable, "-m", "build", "--outdir", tmp / "out", src])
    if p.returncode != 0 and _offline(p):
        pytest.skip("python -m build needs a package index for setuptools: " +
                    p.stderr.strip().splitlines()[-1])
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    wheels = list((tmp / "out").glob("*.whl"))
    sdists = list((tmp / "out").glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, os.listdir(tmp / "out")
    return {"wheel": wheels[0], "sdist": sdists[0], "tmp": tmp}


def test_file_names_carry_name_and_version(dist):
    assert dist["wheel"].name == f"{NAME}-{VERSION}-py3-none-any.whl"
    assert dist["sdist"].name == f"{NAME}-{VERSION}.tar.gz"


def test_wheel_holds_the_generated_parsers_and_the_entry_point(dist):
    with zipfile.ZipFile(dist["wheel"]) as z:
        names = set(z.namelist())
        info = f"{NAME}-{VERSION}.dist-info"
        entry_points = z.read(f"{info}/entry_points.txt").decode()
        metadata = z.read(f"{info}/METADATA").decode()
    # every module of the checkout's package is in the wheel, the generated ones included
    for path in (ROOT / "validator").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        assert rel in names, rel
    assert "validator/_kaitai/arm64_image.py" in names and "validator/py.typed" in names
    assert "[console_scripts]" in entry_points
    assert "kimage = validator.cli:main" in entry_points
    requires = {_requirement(line.split(":", 1)[1]) for line in metadata.splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert requires == {_requirement(d) for d in PYPROJECT["project"]["dependencies"]}
    assert "License-Expression: MIT" in metadata


def _requirement(text: str) -> tuple:
    from packaging.requirements import Requirement

    r = Requirement(text)
    return r.name, r.specifier, str(r.marker)


def test_sdist_holds_what_the_wheel_is_built_from_and_the_specs(dist):
    with tarfile.open(dist["sdist"]) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for must in ("pyproject.toml", "README.md", "CHANGELOG.md", "MANIFEST.in",
                 "validator/_kaitai/arm64_image.py", "validator/_kaitai/ppc64_head.py",
                 "validator/cli.py", "validator/py.typed"):
        assert must in names, must
    for spec in (ROOT / "specs").glob("*.ksy"):
        assert f"specs/{spec.name}" in names
    # the tests need the checkout's corpus and tools: not shipped half
    assert not any(n.startswith("tests/") for n in names)


def _fresh_venv(where: Path) -> Path:
    """A virtual environment with nothing in it (no pip even): its python."""
    p = _run([sys.executable, "-m", "venv", "--without-pip", where])
    assert p.returncode == 0, p.stderr
    return where / "bin" / "python"


def _runs_from(bindir: Path, cwd: Path, python: Path | None = None) -> None:
    """kimage from ``bindir`` answers --version and checks an image, run away from the
    checkout; with ``python``, validator is imported from that environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    p = _run([bindir / "kimage", "--version"], cwd=cwd, env=env)
    assert p.returncode == 0 and p.stdout.strip() == f"kimage {VERSION}", p
    p = _run([bindir / "kimage", "check", IMAGE], cwd=cwd, env=env)
    assert p.returncode == 0 and "verdict  pass" in p.stdout, p
    p = _run([bindir / "kimage", "rules", "--format", "json", "arm64"], cwd=cwd, env=env)
    assert p.returncode == 0 and '"arm64/bad-magic"' in p.stdout, p
    if python is not None:
        p = _run([python, "-c", "import validator; print(validator.__file__)"], cwd=cwd,
                 env=env)
        assert p.returncode == 0 and p.stdout.startswith(str(python.parent.parent)), p


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_pip_installs_it_into_a_clean_venv(dist, kind, tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    p = _run([sys.executable, "-m", "pip", "--python", python, "install",
              "--disable-pip-version-check", dist[kind]])
    if p.returncode != 0 and _offline(p):
        pytest.skip("pip install needs a package index for the dependencies")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    _runs_from(python.parent, tmp_path, python)


def test_pipx_installs_the_wheel(dist, tmp_path):
    pipx = shutil.which("pipx")
    command = [pipx] if pipx else None
    if command is None:
        try:
            import pipx  # noqa: F401
        except ImportError:
            pytest.skip("pipx is not installed here (pip install pipx)")
        command = [sys.executable, "-m", "pipx"]
    env = {**os.environ, "PIPX_HOME": str(tmp_path / "home"),
           "PIPX_BIN_DIR": str(tmp_path / "bin"), "PIPX_MAN_DIR": str(tmp_path / "man")}
    p = _run([*command, "install", dist["wheel"]], env=env)
    if p.returncode != 0 and _offline(p):
        pytest.skip("pipx install needs a package index for the dependencies")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    _runs_from(tmp_path / "bin", tmp_path)


def test_the_oldest_build_backend_allowed_builds_it(dist, tmp_path):
    """build-system.requires names the oldest setuptools that can build this metadata
    (the license expression needs 77): build with exactly that one, no isolation."""
    from packaging.requirements import Requirement

    (requirement,) = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    (lowest,) = [s.version for s in requirement.specifier if s.operator == ">="]
    python = _fresh_venv(tmp_path / "venv")
    p = _run([sys.executable, "-m", "pip", "--python", python, "install",
              "--disable-pip-version-check", f"setuptools=={lowest}", "build"])
    if p.returncode != 0 and _offline(p):
        pytest.skip(f"installing setuptools=={lowest} needs a package index")
    assert p.returncode == 0, p.stderr[-3000:]
    p = _run([python, "-m", "build", "--no-isolation", "--wheel", "--outdir", tmp_path / "out",
              dist["tmp"] / "src"])
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert [w.name for w in (tmp_path / "out").glob("*.whl")] == [dist["wheel"].name]

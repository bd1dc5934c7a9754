"""The CI recipes in docs/ci/ run as written: their `kimage` lines are taken from the YAML
and run by a shell, with the job's variables pointing at a build tree made from the
corpus, and what they write is read back as GitHub, GitLab and code scanning read it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

from tests.conftest import ROOT  # noqa: E402
from tests.test_ci_formats import (  # noqa: E402
    GITLAB_CODE_QUALITY,
    build_tree,
    junit_valid,
    parse_github,
    sarif_valid,
)

DOCS = ROOT / "docs" / "ci"
BIN = Path(sys.executable).parent


def kimage_lines(script) -> list[str]:
    lines = script.splitlines() if isinstance(script, str) else list(script)
    return [line.strip() for line in lines if re.match(r"\s*kimage\s", line)]


def run_line(line: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """One line of a recipe, run by the shell, with this checkout's kimage on PATH."""
    assert (BIN / "kimage").exists(), "kimage is not installed in this environment"
    full = {**os.environ, **{k: str(v) for k, v in env.items()},
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["sh", "-c", line], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def workspace(tmp_path) -> Path:
    """A job's working directory after the build: out/boot and out/debs."""
    build_tree(tmp_path / "out")
    return tmp_path


def test_github_actions_recipe(workspace):
    doc = yaml.safe_load((DOCS / "github-actions.yml").read_text())
    assert doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    assert doc["permissions"]["security-events"] == "write"
    (job,) = doc["jobs"].values()
    env = job["env"]
    assert env["BOOT_DIR"] == "out/boot" and env["DEBS_DIR"] == "out/debs"
    steps = job["steps"]
    install = [s["run"] for s in steps if "pip install" in s.get("run", "")]
    assert install == ['python -m pip install "$KIMAGE_SOURCE"']  # a checkout or a wheel
    runs = [line for s in steps for line in kimage_lines(s.get("run", ""))]
    assert len(runs) == 2
    outputs = {}
    for line in runs:
        p = run_line(line, workspace, env)
        if "--format github" in line:
            assert p.returncode == 0, p.stderr  # --exit-zero: annotations only
            commands = [parse_github(x) for x in p.stdout.splitlines()]
            assert {c for c, _, _ in commands} == {"error", "warning", "notice"}
            assert all(props["file"].startswith("out/") for _, props, _ in commands)
        else:
            assert p.returncode == 1, p.stderr  # the cut kernel is an error: the step fails
            outputs["sarif"] = re.search(r"--output (\S+)", line)[1]
    upload = [s for s in steps if "upload-sarif" in s.get("uses", "")]
    (upload,) = upload
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "always()" in upload["if"]  # uploaded even though the lint step failed
    assert upload["with"]["sarif_file"] == outputs["sarif"]
    run = sarif_valid(json.loads((workspace / outputs["sarif"]).read_text()))
    assert run["invocations"][0]["exitCode"] == 1
    assert {r["ruleId"] for r in run["results"]} >= {"arm64/file-truncated"}


def test_gitlab_ci_recipe(workspace):
    doc = yaml.safe_load((DOCS / "gitlab-ci.yml").read_text())
    (job,) = doc.values()
    env = job["variables"]
    assert env["BOOT_DIR"] == "out/boot" and env["DEBS_DIR"] == "out/debs"
    assert job["script"][0] == 'python -m pip install "$KIMAGE_SOURCE"'
    lines = kimage_lines(job["script"])
    assert len(lines) == 2
    codes = [run_line(line, workspace, env).returncode for line in lines]
    assert codes == [0, 1]  # the JUnit line exits 0, the Code Quality line fails the job
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    reports = artifacts["reports"]
    import jsonschema

    issues = json.loads((workspace / reports["codequality"]).read_text())
    jsonschema.validate(issues, GITLAB_CODE_QUALITY)
    assert any(i["severity"] == "critical" and i["location"]["path"].startswith("out/boot/")
               for i in issues)
    root = junit_valid((workspace / reports["junit"]).read_text())
    assert int(root.find("testsuite").get("failures")) >= 1

"""The benchmark's launcher starts a command named as a shell would name it, and the
cold-start part reports no ratio against a command that did not run (exit status not 0):
a reference that exits 127 in a millisecond is no floor."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bench import coldstart, common


def test_a_program_named_without_its_path_runs():
    sh = shutil.which("sh")
    if sh is None:
        pytest.skip("no sh on PATH")
    assert common.spawn(["sh", "-c", "exit 0"]).status == 0
    assert common.spawn(["sh", "-c", "exit 3"]).status == 3
    assert common.spawn([sh, "-c", "exit 0"]).status == 0


def test_a_program_that_cannot_start_exits_127():
    assert common.spawn(["/nonexistent/kimage-bench-no-such-program"]).status == 127
    assert common.spawn(["kimage-bench-no-such-program-on-path"]).status == 127


def test_a_pipeline_reference_fails_when_either_side_fails(tmp_path):
    if not (shutil.which("dpkg-deb") and shutil.which("tar") and shutil.which("bash")):
        pytest.skip("dpkg-deb, tar or bash not installed")
    from bench.realsize import deb_reference

    missing = tmp_path / "no-such.deb"
    assert common.spawn(deb_reference(missing, "./boot/vmlinuz-1")).status != 0


def _table(statuses: dict[str, list[int]]) -> dict:
    def row(median):
        return {"median": median, "q1": median, "q3": median}

    return {name: {"wall_ms": row(10.0 + i), "cpu_ms": row(5.0 + i), "exit": exits,
                   "instructions": 1_000_000 * (i + 1)}
            for i, (name, exits) in enumerate(statuses.items())}


def test_no_ratio_against_a_reference_that_failed():
    table = _table({coldstart.EDITABLE: [0], "python3 -I -c pass": [0],
                    "dpkg-deb --fsys-tarfile | tar -xO": [127], "gzip -dc": [0]})
    ratios = coldstart._ratios(table, ["dpkg-deb --fsys-tarfile | tar -xO", "gzip -dc"])
    against_deb = [k for k in ratios if k.endswith("tar -xO (cpu)") or
                   k.endswith("tar -xO (wall)") or k.endswith("tar -xO (instructions)")]
    assert against_deb and all(ratios[k] is None for k in against_deb)
    assert ratios[f"{coldstart.EDITABLE} / gzip -dc (cpu)"] == round(5.0 / 8.0, 2)
    refused = coldstart._refused(table, ["dpkg-deb --fsys-tarfile | tar -xO", "gzip -dc"])
    assert list(refused) == ["dpkg-deb --fsys-tarfile | tar -xO"]
    assert "127" in refused["dpkg-deb --fsys-tarfile | tar -xO"]


def test_a_kimage_error_finding_is_timed_a_usage_error_is_not():
    table = _table({coldstart.EDITABLE: [1], "python3 -I -c pass": [0]})
    assert coldstart._ratios(table)["kimage / python3 -I -c pass (cpu)"] == round(5 / 6, 2)
    table = _table({coldstart.EDITABLE: [2], "python3 -I -c pass": [0]})
    assert coldstart._ratios(table)["kimage / python3 -I -c pass (cpu)"] is None
    table = _table({coldstart.EDITABLE: [0], "python3 -I -c pass": [0, 1]})
    assert coldstart._ratios(table)["kimage / python3 -I -c pass (cpu)"] is None


def test_real_size_inputs_missing_are_skipped_with_the_reason(tmp_path):
    from bench import realsize

    found, skipped = realsize.find_debs(tmp_path)
    assert found == {}
    labels = {label for label, _ in realsize.DEBS}
    assert set(skipped) == labels
    assert all("no build/" in why for why in skipped.values())


def test_the_kernel_member_of_a_package_is_found(tmp_path):
    if not (shutil.which("dpkg-deb") and shutil.which("tar") and shutil.which("bash")):
        pytest.skip("dpkg-deb, tar or bash not installed")
    from bench import realsize

    for layout, path in (("boot", "boot/vmlinuz-6.1.0-1-arm64"),
                         ("split", "usr/lib/modules/7.2.13+deb14-arm64/vmlinuz")):
        root = tmp_path / layout
        (root / "DEBIAN").mkdir(parents=True)
        (root / "DEBIAN" / "control").write_text(
            "Package: linux-image-test\nVersion: 1\nArchitecture: arm64\n"
            "Maintainer: kimage tests <kimage@example.invalid>\nDescription: test\n")
        kernel = root / path
        kernel.parent.mkdir(parents=True)
        kernel.write_bytes(b"MZ" + bytes(4094))
        (root / "usr/share/doc/linux-image-test").mkdir(parents=True)
        (root / "usr/share/doc/linux-image-test/changelog").write_text("x\n")
        deb = tmp_path / f"{layout}.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root),
                        str(deb)], check=True, capture_output=True)
        assert realsize.kernel_member(deb) == f"./{path}"
        assert common.spawn(realsize.deb_reference(deb, f"./{path}")).status == 0
        assert common.spawn(realsize.deb_reference(deb, "./boot/no-such")).status != 0

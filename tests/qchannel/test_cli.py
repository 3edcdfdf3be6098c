"""`qkdnet keyrate` and `qkdnet fading`: output formats, published figures, one-line errors."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.physics import parse_distance_range
from tests.conftest import qkdnet_command

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_keyrate_json_reproduces_gys_decoy_curve():
    """The JSON rows carry the five documented fields; the GYS curve (LMC05 Fig. 1) has key at
    140 km and none at 145 km (cut-off ~142 km)."""
    result = _run(
        "keyrate",
        "--protocol",
        "bb84-decoy",
        "--preset",
        "gys-2004",
        "--distance",
        "0:145:5",
        "--json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 30
    assert set(rows[0]) == {"distance_km", "gain", "qber", "key_rate_bits_per_pulse", "mu"}
    by_distance = {row["distance_km"]: row for row in rows}
    assert by_distance[140.0]["key_rate_bits_per_pulse"] > 0.0
    assert by_distance[145.0]["key_rate_bits_per_pulse"] == 0.0
    assert by_distance[0.0]["qber"] == pytest.approx(0.033, abs=1e-3)  # e_detector dominates


def test_keyrate_table_reports_the_maximum_distance_for_mdi():
    result = _run("keyrate", "--protocol", "mdi", "--preset", "lcq-2012", "--distance", "0:240:40")
    assert result.exit_code == 0, result.output
    assert "maximum secure distance: 232.09 km" in result.stdout
    assert "PLOB" in result.stdout


def test_keyrate_plot_is_a_png(tmp_path):
    target = tmp_path / "rate.png"
    result = _run(
        "keyrate", "--preset", "gys-2004", "--distance", "0:150:50", "--plot", str(target)
    )
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_keyrate_fixed_mu():
    result = _run(
        "keyrate", "--preset", "gys-2004", "--distance", "10:10:1", "--mu", "0.2", "--json"
    )
    assert json.loads(result.stdout)[0]["mu"] == 0.2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--distance", "0:100"], "expected START:STOP:STEP"),
        (["--distance", "0:100:0"], "STEP must be > 0"),
        (["--distance", "-5:100:5"], "START must be >= 0"),
        (["--distance", "a:b:c"], "must be numbers"),
        (["--preset", "gys"], "unknown preset 'gys'; known presets: gys-2004, lcq-2012"),
        (["--mu", "-1"], "--mu must be a positive number"),
        (["--plot", "/nonexistent-dir/x.png"], "does not exist"),
        (["--plot", "out.txt"], "use a .png, .pdf or .svg"),
    ],
)
def test_keyrate_bad_input_is_one_line_and_exit_2(args, message):
    result = _run("keyrate", *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qkdnet: error: ")
    assert message in lines[0]


def test_keyrate_console_script_rejects_unknown_protocol():
    """End to end through the installed `qkdnet` script: a bad choice is a one-line usage error."""
    done = subprocess.run(
        [*qkdnet_command(), "keyrate", "--protocol", "e91"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "e91" in done.stderr


def test_parse_distance_range_includes_stop_on_the_grid():
    assert parse_distance_range("0:1:0.25") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parse_distance_range("0:0.9:0.25") == [0.0, 0.25, 0.5, 0.75]
    assert parse_distance_range("0:0.3:0.1")[-1] == pytest.approx(0.3)


def test_fading_summary_json_and_csv(tmp_path):
    target = tmp_path / "series.csv"
    result = _run(
        "fading",
        "--mean-loss-db",
        "25",
        "--scintillation-index",
        "0.2",
        "--steps",
        "5000",
        "--seed",
        "3",
        "--json",
        "--csv",
        str(target),
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["mean_transmittance"]["model"] == pytest.approx(10**-2.5)
    assert summary["mean_transmittance"]["sampled"] == pytest.approx(10**-2.5, rel=0.1)
    assert 0.0 <= summary["outage_fraction"] <= 1.0
    lines = target.read_text().splitlines()
    assert lines[0] == "time_s,transmittance,loss_db,gain,qber,mu,key_rate_bits_per_pulse"
    assert len(lines) == 5001
    again = _run(
        "fading",
        "--mean-loss-db",
        "25",
        "--scintillation-index",
        "0.2",
        "--steps",
        "5000",
        "--seed",
        "3",
        "--json",
    )
    assert json.loads(again.stdout) == summary  # seeded: identical


def test_fading_rejects_bad_input():
    result = _run(
        "fading", "--distribution", "beta", "--mean-loss-db", "1", "--scintillation-index", "2"
    )
    assert result.exit_code == 2
    assert "too large for a beta law" in result.stderr
    result = _run("fading", "--protocol", "mdi")
    assert result.exit_code == 2 and "one free-space link" in result.stderr


def test_keyrate_finite_block():
    result = _run(
        "keyrate", "--protocol", "bb84-vacuum-weak", "--pulses", "1e10", "--distance", "0:120:40"
    )
    assert result.exit_code == 0, result.output
    assert "block of 1e+10 pulses" in result.stdout
    result = _run("keyrate", "--pulses", "1e10")
    assert result.exit_code == 2 and "--pulses needs --protocol bb84-vacuum-weak" in result.stderr

"""`qkdnet kme` as a user runs it: bad options get one line and exit 2; a real run serves the
published client over HTTPS and stops cleanly on SIGTERM with its key accounting."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import qkdnet_command
from tests.kme._service import chain_config


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "0", "--insecure-http"], "--speed must be > 0"),
        (["--speed", "2", "--as-fast-as-requests", "--insecure-http"], "not both"),
        ([], "give --certs DIR"),
        (["--certs", "x", "--insecure-http"], "not both"),
    ],
)
def test_bad_options_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("topology: secoqc-vienna\n")
    done = subprocess.run(
        [*qkdnet_command(), "kme", str(scenario), *args], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.ns3
def test_serves_the_client_and_stops_on_sigterm(tmp_path: Path) -> None:
    from etsi_qkd_014_client import QKD014Client

    config = chain_config(tmp_path, steps=100)
    scenario = tmp_path / "chain-scenario.yaml"
    scenario.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    certs = tmp_path / "certs"
    process = subprocess.Popen(
        [
            *qkdnet_command(),
            "kme",
            str(scenario),
            "--certs",
            str(certs),
            "--as-fast-as-requests",
            "--duration-s",
            "300",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        while not lines or lines[-1] != "}\n":  # the endpoint description, one JSON object
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line)
        endpoints = json.loads("".join(lines))
        assert json.loads((certs / "endpoints.json").read_text()) == endpoints

        def client(sae: str) -> QKD014Client:
            entry = endpoints["saes"][sae]
            host = entry["url"].removeprefix("https://")
            return QKD014Client(host, entry["cert"], entry["key"], endpoints["ca"])

        code, container = client("sae-a").get_key("sae-c", number=2, size=256)
        assert code == 200, container.message
        code, again = client("sae-c").get_key_with_key_IDs(
            "sae-a", [k.key_id for k in container.keys]
        )
        assert code == 200 and [k.key for k in again.keys] == [k.key for k in container.keys]
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "sae-a~sae-c: delivered" in stderr and "(2 keys), to slaves 2 keys" in stderr

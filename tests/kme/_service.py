"""A running KME service on 127.0.0.1 for the API tests: a small scenario, real HTTPS sockets,
throwaway certificates, the simulation advanced as fast as requests need.

The scenario: a chain N0 - N1 - N2 with two demands, so one key is relayed (N0 -> N2 via N1,
sae-a <-> sae-c) and one is taken straight from a link (N0 -> N1, sae-a2 <-> sae-b).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.network._scenarios import chain_topology, scenario


def chain_config(tmp: Path, steps: int = 200, **fields):
    topology = chain_topology(tmp / "chain.yaml", n=3, length_km=20.0)
    demands = fields.pop(
        "demands",
        [
            {"src": "N0", "dst": "N2", "rate_bps": 20_000, "saes": ["sae-a", "sae-c"]},
            {"src": "N0", "dst": "N1", "rate_bps": 8_000, "saes": ["sae-a2", "sae-b"]},
        ],
    )
    return scenario(
        topology,
        steps=steps,
        demands=demands,
        control=fields.pop("control", {"mode": "baseline"}),
        buffer=fields.pop("buffer", {"initial_bits": 2_000_000, "minimum_bits": 0}),
        **fields,
    )


@dataclass
class Service:
    """What a test needs to talk to the running KMEs."""

    network: object
    servers: object
    certs: object
    clock: object

    def url(self, sae: str) -> str:
        return self.servers.endpoints[self.network.directory.saes[sae].kme_id].url

    def client(self, sae: str, via: str | None = None):
        """The published etsi-qkd-014-client, as SAE `sae`, talking to its own KME (or `via`)."""
        from etsi_qkd_014_client import QKD014Client

        pair = self.certs.saes[sae]
        host = self.url(via or sae)
        return QKD014Client(host, str(pair.cert), str(pair.key), str(self.certs.ca.cert))

    def drive(self, body, *args, timeout_s: float = 300.0):
        """Run `body(*args)` in a worker thread while this (the ns-3) thread runs the clock.

        ns-3's simulator belongs to the thread that built it, so requests that need the
        simulation to advance are served by the clock here, as `qkdnet kme` does in its main
        thread; returns what `body` returned and re-raises what it raised.
        """
        stop = threading.Event()
        outcome: dict[str, object] = {}

        def worker() -> None:
            try:
                outcome["value"] = body(*args)
            except BaseException as exc:  # handed back to the test thread
                outcome["error"] = exc
            finally:
                stop.set()

        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        timer = threading.Timer(timeout_s, stop.set)
        timer.start()
        try:
            self.clock.run(stop)
        finally:
            timer.cancel()
        thread.join(5.0)
        if "error" in outcome:
            raise outcome["error"]
        if "value" not in outcome:
            raise TimeoutError(f"test body still running after {timeout_s} s")
        return outcome["value"]


@contextlib.contextmanager
def start_service(
    config, certs_dir: Path, max_steps: int = 20, paced: bool = False
) -> Iterator[Service]:
    """Build the network, certificates and servers; yield the Service; tear all down.

    `paced`: requests never advance the simulation (the test steps it itself, from this thread,
    and asks for keys between steps: an application consuming at a fixed simulated rate).
    """
    from kme.api import KmeApi
    from kme.certs import generate_certificates
    from kme.clock import OnDemandClock
    from kme.network import KeyDeliveryNetwork
    from kme.server import KmeServers

    with KeyDeliveryNetwork(config) as network:
        d = network.directory
        certs = generate_certificates(certs_dir, sorted(d.kmes), [*sorted(d.saes), "sae-stranger"])
        clock = OnDemandClock(network, max_steps=max_steps)
        api = KmeApi(network) if paced else KmeApi(network, supply=clock.supply)
        with KmeServers(api, certs=certs) as servers:
            yield Service(network, servers, certs, clock)

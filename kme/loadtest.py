"""A bounded load test of the KME API: N concurrent master SAEs ask for keys over HTTPS on
127.0.0.1 for a fixed time, each key is fetched again by its slave, and at the end every key is
checked: none handed out twice, none lost (every delivered byte is handed out or still stored).

Why a library module: the fast test runs it for a few seconds and `benchmarks/bench_kme_load.py`
for a minute; both print the same report, with the API's latency percentiles.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests
import yaml

from bridge.scenario.config import ScenarioConfig, parse_scenario
from kme.certs import CertificateSet
from kme.network import KeyDeliveryNetwork
from kme.server import KmeServers


def load_scenario_config(
    directory: Path, duration_s: float, speed: float, nodes: int = 4
) -> ScenarioConfig:
    """A chain of `nodes` trusted nodes with a 20 kbit/s demand between every pair of them."""
    topology = directory / "chain.yaml"
    topology.write_text(
        yaml.safe_dump(
            {
                "name": "chain",
                "nodes": [{"id": f"N{i}"} for i in range(nodes)],
                "links": [
                    {"a": f"N{i}", "b": f"N{i + 1}", "length_km": 10.0} for i in range(nodes - 1)
                ],
            }
        )
    )
    demands = [
        {"src": f"N{i}", "dst": f"N{j}", "rate_bps": 20_000, "saes": [f"s{i}{j}", f"s{j}{i}"]}
        for i in range(nodes)
        for j in range(i + 1, nodes)
    ]
    steps = int(duration_s * speed / 0.1) + 50
    return parse_scenario(
        {
            "topology": str(topology),
            "seed": 1,
            "step_s": 0.1,
            "steps": steps,
            "link": {"frame_pulses": 1_000_000, "block_size_bits": 20_000},
            "buffer": {"initial_bits": 5_000_000, "minimum_bits": 0},
            "demands": demands,
            "control": {"mode": "baseline"},
        },
        source="bench_kme_load",
    )


@dataclass
class WorkerResult:
    master: str
    slave: str
    keys: dict[str, bytes] = field(default_factory=dict)  # key_ID -> bytes (master == slave)
    latencies_s: list[float] = field(default_factory=list)
    served: int = 0
    unavailable: int = 0  # 503
    mismatches: int = 0  # slave got other bytes than master (must stay 0)
    duplicates: int = 0  # a key ID seen twice by this worker (must stay 0)
    errors: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    workers: int
    duration_s: float
    requests: int
    keys: int
    unavailable: int
    duplicate_ids: int
    duplicate_keys: int
    mismatches: int
    errors: list[str]
    p50_ms: float
    p99_ms: float
    max_ms: float
    lost_bytes: int  # delivered - (handed out + stored + overflowed), over all stores

    def lines(self) -> list[str]:
        return [
            f"workers {self.workers}, {self.duration_s:.1f} s, {self.requests} requests "
            f"({self.requests / self.duration_s:.0f}/s), {self.keys} keys, "
            f"{self.unavailable} answered 503",
            f"duplicated key IDs {self.duplicate_ids}, duplicated key bytes {self.duplicate_keys}, "
            f"master/slave mismatches {self.mismatches}, lost bytes {self.lost_bytes}, "
            f"errors {len(self.errors)}",
            f"latency p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms",
        ]


def _worker(
    result: WorkerResult,
    servers: KmeServers,
    network: KeyDeliveryNetwork,
    certs: CertificateSet,
    deadline: float,
    number: int,
    size_bits: int,
) -> None:
    def session(sae: str) -> tuple[requests.Session, str]:
        s = requests.Session()
        pair = certs.saes[sae]
        s.cert = (str(pair.cert), str(pair.key))
        # trust_env off and verify per request: else REQUESTS_CA_BUNDLE overrides the session CA
        s.trust_env = False
        s.verify = str(certs.ca.cert)
        kme = network.directory.saes[sae].kme_id
        return s, f"https://{servers.endpoints[kme].url}/api/v1/keys"

    master, master_url = session(result.master)
    slave, slave_url = session(result.slave)
    try:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            response = master.post(
                f"{master_url}/{result.slave}/enc_keys",
                json={"number": number, "size": size_bits},
                verify=master.verify,
                timeout=30,
            )
            result.latencies_s.append(time.perf_counter() - start)
            if response.status_code == 503:
                result.unavailable += 1
                time.sleep(0.02)
                continue
            if response.status_code != 200:
                result.errors.append(f"enc_keys {response.status_code}: {response.text[:200]}")
                continue
            keys = {k["key_ID"]: base64.b64decode(k["key"]) for k in response.json()["keys"]}
            start = time.perf_counter()
            response = slave.post(
                f"{slave_url}/{result.master}/dec_keys",
                json={"key_IDs": [{"key_ID": k} for k in keys]},
                verify=slave.verify,
                timeout=30,
            )
            result.latencies_s.append(time.perf_counter() - start)
            if response.status_code != 200:
                result.errors.append(f"dec_keys {response.status_code}: {response.text[:200]}")
                continue
            got = {k["key_ID"]: base64.b64decode(k["key"]) for k in response.json()["keys"]}
            result.mismatches += sum(got.get(k) != v for k, v in keys.items())
            result.duplicates += sum(k in result.keys for k in keys)
            result.keys.update(keys)
            result.served += 1
    except requests.RequestException as exc:
        result.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        master.close()
        slave.close()


def run_load(
    network: KeyDeliveryNetwork,
    servers: KmeServers,
    certs: CertificateSet,
    *,
    duration_s: float,
    workers_per_pair: int = 1,
    number: int = 4,
    size_bits: int = 256,
) -> tuple[list[threading.Thread], list[WorkerResult], float]:
    """Start the workers (one master per SAE pair and direction, times `workers_per_pair`).

    Returns at once; the caller's thread keeps stepping the simulation (ns-3 is single-threaded)
    and calls `finish_load` when the threads are done.
    """
    results = []
    for store in network.stores.values():
        for master, slave in ((store.sae_a, store.sae_b), (store.sae_b, store.sae_a)):
            results.extend(WorkerResult(master, slave) for _ in range(workers_per_pair))
    deadline = time.monotonic() + duration_s
    threads = [
        threading.Thread(
            target=_worker,
            args=(r, servers, network, certs, deadline, number, size_bits),
            daemon=True,
        )
        for r in results
    ]
    for thread in threads:
        thread.start()
    return threads, results, time.monotonic()


def finish_load(
    network: KeyDeliveryNetwork, results: list[WorkerResult], started: float
) -> LoadReport:
    """Check the keys of a finished run against each other and against the stores."""
    duration = time.monotonic() - started
    all_ids: list[str] = []
    all_keys: list[bytes] = []
    for r in results:
        all_ids.extend(r.keys)
        all_keys.extend(r.keys.values())
    lost = 0
    with network.lock:
        for store in network.stores.values():
            c = store.counters
            lost += c.delivered_bytes - (c.issued_bytes + store.pool_bytes + c.overflowed_bytes)
        issued = sum(s.counters.issued_keys for s in network.stores.values())
    latencies = np.array([t for r in results for t in r.latencies_s]) * 1e3

    def percentile(q: float) -> float:
        return float(np.percentile(latencies, q)) if latencies.size else float("nan")

    errors = [e for r in results for e in r.errors]
    if issued != len(all_ids):  # a key the KME handed out that no worker received
        errors.append(f"stores issued {issued} keys, workers received {len(all_ids)}")
    return LoadReport(
        workers=len(results),
        duration_s=duration,
        requests=sum(len(r.latencies_s) for r in results),
        keys=len(all_ids),
        unavailable=sum(r.unavailable for r in results),
        duplicate_ids=len(all_ids) - len(set(all_ids)) + sum(r.duplicates for r in results),
        duplicate_keys=len(all_keys) - len(set(all_keys)),
        mismatches=sum(r.mismatches for r in results),
        errors=errors,
        p50_ms=percentile(50),
        p99_ms=percentile(99),
        max_ms=percentile(100),
        lost_bytes=lost,
    )


def load_test(
    network: KeyDeliveryNetwork,
    servers: KmeServers,
    certs: CertificateSet,
    clock,
    *,
    duration_s: float,
    **options,
) -> LoadReport:
    """Run the workers for `duration_s` while this thread runs `clock` (it owns ns-3)."""
    threads, results, started = run_load(network, servers, certs, duration_s=duration_s, **options)
    stop = threading.Event()

    def watch() -> None:
        for thread in threads:
            thread.join()
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    clock.run(stop)
    return finish_load(network, results, started)


def run_load_scenario(
    directory: Path, *, duration_s: float, speed: float = 1.0, nodes: int = 4, **options
) -> tuple[LoadReport, float]:
    """The whole load test on `load_scenario_config`: certificates under `directory`, one HTTPS
    port per KME on 127.0.0.1, simulation at `speed` x real time in this thread.
    Returns the report and the simulated seconds reached."""
    from kme.api import KmeApi
    from kme.certs import generate_certificates
    from kme.clock import RealTimeClock

    config = load_scenario_config(directory, duration_s, speed, nodes)
    with KeyDeliveryNetwork(config) as network:
        d = network.directory
        certs = generate_certificates(directory / "certs", sorted(d.kmes), sorted(d.saes))
        clock = RealTimeClock(network, speed=speed)
        with KmeServers(KmeApi(network, supply=clock.supply), certs=certs) as servers:
            report = load_test(network, servers, certs, clock, duration_s=duration_s, **options)
        return report, network.now_s

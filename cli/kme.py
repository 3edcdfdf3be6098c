"""`qkdnet kme SCENARIO.yaml`: run a scenario and serve ETSI GS QKD 014 on its key managers.

Kept light at import time (typer, stdlib): ns-3 and the servers load inside the command body.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import typer

from cli.errors import fail, user_errors


def kme(
    scenario: Path = typer.Argument(..., help="scenario YAML (its demands name the SAEs)"),
    certs: Path | None = typer.Option(
        None,
        "--certs",
        help="folder of the TLS certificates; a throwaway CA and per-KME/per-SAE certificates "
        "are generated there when it has no ca.crt yet",
    ),
    speed: float | None = typer.Option(
        None, "--speed", help="simulated seconds per wall-clock second (default 1: real time)"
    ),
    as_fast_as_requests: bool = typer.Option(
        False,
        "--as-fast-as-requests",
        help="advance the simulation only when a request needs more key (for tests)",
    ),
    max_steps_per_request: int = typer.Option(
        20, min=1, help="with --as-fast-as-requests: most steps one request may advance"
    ),
    steps: int | None = typer.Option(
        None, min=1, help="simulation steps to run (default: the scenario's `steps`)"
    ),
    host: str = typer.Option("127.0.0.1", help="address to bind every KME to"),
    port_base: int = typer.Option(
        0, min=0, max=65000, help="KME of node i listens on port_base + i (0: free ports)"
    ),
    insecure_http: bool = typer.Option(
        False,
        "--insecure-http",
        help="INSECURE: plain HTTP, the SAE names itself in an X-SAE-ID header (debugging only)",
    ),
    duration_s: float | None = typer.Option(
        None, min=0.0, help="stop serving after this many wall-clock seconds (default: Ctrl-C)"
    ),
    log_requests: bool = typer.Option(False, help="print one line per HTTP request"),
    progress_s: float = typer.Option(
        10.0, min=0.1, help="wall-clock seconds between progress lines on stderr"
    ),
) -> None:
    """Serve ETSI GS QKD 014 key delivery on every trusted node's key manager of SCENARIO."""
    with user_errors():
        if speed is not None and as_fast_as_requests:
            raise fail("give either --speed or --as-fast-as-requests, not both")
        if speed is not None and not speed > 0.0:
            raise fail(f"--speed must be > 0, not {speed}")
        if certs is None and not insecure_http:
            raise fail("give --certs DIR (certificates are generated there) or --insecure-http")
        if certs is not None and insecure_http:
            raise fail("give either --certs or --insecure-http, not both")
        try:
            _serve(
                scenario,
                certs,
                speed=1.0 if speed is None else speed,
                on_demand=as_fast_as_requests,
                max_steps_per_request=max_steps_per_request,
                steps=steps,
                host=host,
                port_base=port_base,
                duration_s=duration_s,
                log_requests=log_requests,
                progress_s=progress_s,
            )
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise fail(f"cannot serve on {host}: {exc.strerror or exc}") from None


def _serve(
    scenario_path: Path,
    certs_dir: Path | None,
    *,
    speed: float,
    on_demand: bool,
    max_steps_per_request: int,
    steps: int | None,
    host: str,
    port_base: int,
    duration_s: float | None,
    log_requests: bool,
    progress_s: float,
) -> None:
    from bridge.scenario.config import load_scenario
    from kme.api import KmeApi
    from kme.certs import certificate_set, generate_certificates
    from kme.clock import OnDemandClock, RealTimeClock
    from kme.network import KeyDeliveryNetwork
    from kme.server import KmeServers

    config = load_scenario(scenario_path)
    with KeyDeliveryNetwork(config, steps=steps) as network:
        directory = network.directory
        certs = None
        if certs_dir is not None:
            kme_ids, sae_ids = sorted(directory.kmes), sorted(directory.saes)
            if (certs_dir / "ca.crt").is_file():
                certs = certificate_set(certs_dir, kme_ids, sae_ids)
            else:
                hosts = tuple(dict.fromkeys((host, "127.0.0.1", "localhost")))
                certs = generate_certificates(certs_dir, kme_ids, sae_ids, hosts=hosts)
        clock = (
            OnDemandClock(network, max_steps=max_steps_per_request)
            if on_demand
            else RealTimeClock(network, speed=speed)
        )
        api = KmeApi(network, supply=clock.supply)
        with KmeServers(
            api, certs=certs, host=host, port_base=port_base, log_requests=log_requests
        ) as servers:
            endpoints = _describe(servers, network, certs)
            print(json.dumps(endpoints, indent=2), flush=True)
            if certs is not None:
                (certs.directory / "endpoints.json").write_text(json.dumps(endpoints, indent=2))
            mode = "as fast as requests need" if on_demand else f"speed x{speed:g}"
            print(
                f"qkdnet kme: serving {len(servers.endpoints)} KMEs ({mode}); Ctrl-C stops",
                file=sys.stderr,
                flush=True,
            )
            stop = threading.Event()
            # SIGTERM (docker stop, kill) ends the run like Ctrl-C: the accounting is printed
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            if duration_s is not None:
                timer = threading.Timer(duration_s, stop.set)
                timer.daemon = True
                timer.start()
            threading.Thread(
                target=_report_progress, args=(network, stop, progress_s), daemon=True
            ).start()
            try:
                clock.run(stop)
            except KeyboardInterrupt:
                print("qkdnet kme: stopped", file=sys.stderr)
            finally:
                stop.set()
            _print_accounting(network)


def _describe(servers, network, certs) -> dict:
    """Endpoints and credentials per KME and SAE (what a user points an application at)."""
    saes = {}
    for sae in network.directory.saes.values():
        entry = {"kme": sae.kme_id, "url": f"https://{servers.endpoints[sae.kme_id].url}"}
        if certs is None:
            entry["url"] = entry["url"].replace("https://", "http://")
        else:
            entry["cert"] = str(certs.saes[sae.sae_id].cert)
            entry["key"] = str(certs.saes[sae.sae_id].key)
        saes[sae.sae_id] = entry
    return {
        "ca": None if certs is None else str(certs.ca.cert),
        "kmes": {k: e.url for k, e in servers.endpoints.items()},
        "saes": saes,
        "pairs": [sorted(pair) for pair in network.stores],
    }


def _report_progress(network, stop: threading.Event, every_s: float) -> None:
    """One stderr line every `every_s`: simulated time, the speed reached (a scenario too heavy
    for this machine runs slower than asked: the clock then steps back to back) and the bits
    each pair has stored."""
    import time

    start_wall, start_sim = time.monotonic(), network.now_s
    while not stop.wait(every_s):
        with network.lock:
            stores = ", ".join(f"{s.name} {8 * s.pool_bytes} bits" for s in network.stores.values())
        speed = (network.now_s - start_sim) / (time.monotonic() - start_wall)
        done = " (scenario finished)" if network.finished else f" (x{speed:.2f} wall time)"
        print(f"qkdnet kme: t = {network.now_s:.1f} s{done}; stored: {stores}", file=sys.stderr)


def _print_accounting(network) -> None:
    with network.lock:
        for store in network.stores.values():
            c = store.counters
            print(
                f"{store.name}: delivered {c.delivered_bytes} B, handed to masters "
                f"{c.issued_bytes} B ({c.issued_keys} keys), to slaves {c.claimed_keys} keys, "
                f"stored {store.pool_bytes} B, overflowed {c.overflowed_bytes} B",
                file=sys.stderr,
            )

"""Where sweep tasks run: a local process pool (default) or a Ray cluster.

Both run the same function (`experiments.sweep.task.run_task`) on the same plain-data tasks and
write into the same output folder, so the table they give is the same and either can resume the
other's sweep. ns-3's simulator is one per process, so every task runs in a worker process that
runs one task at a time (the pool's workers; Ray tasks asking for one CPU each). The parent
process never loads ns-3.

Ray is optional (`pip install 'qkdnet[ray]'`); with no `--address` it starts a private local
instance sized to `--workers`, with an address it joins that cluster, whose nodes must see the
output folder (a shared file system) and have qkdnet installed.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from experiments.sweep.task import run_task

EXECUTORS = ("local", "ray")
Result = dict[str, Any]


class ExecutorUnavailableError(ValueError):
    """The chosen executor cannot run here (Ray not installed, cluster unreachable)."""


def run_local(tasks: list[dict[str, Any]], out_dir: str, workers: int) -> Iterator[Result]:
    """Yield each task's result as it finishes, `workers` processes at a time.

    Processes are started with "spawn": a forked child would inherit the parent's imported
    state, and ns-3/cppyy must start clean in each worker.
    """
    if not tasks:
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = {pool.submit(run_task, task, out_dir) for task in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def run_ray(
    tasks: list[dict[str, Any]], out_dir: str, workers: int, address: str | None
) -> Iterator[Result]:
    """Yield each task's result as it finishes, on Ray (local instance or `address`)."""
    if not tasks:
        return
    try:
        import ray
    except ImportError:
        message = "--executor ray needs Ray: pip install 'qkdnet[ray]'"
        raise ExecutorUnavailableError(message) from None
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            options["address"] = address
        else:
            options["num_cpus"] = workers
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError) as exc:
            raise ExecutorUnavailableError(f"cannot start or reach Ray: {exc}") from None
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
        pending = [remote.remote(task, out_dir) for task in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()


def executor(name: str, workers: int, address: str | None) -> Callable[..., Iterator[Result]]:
    """The run function for `--executor NAME` (tasks, out_dir) -> results as they finish."""
    if name == "local":
        if address:
            raise ExecutorUnavailableError("--address only applies to --executor ray")
        return lambda tasks, out_dir: run_local(tasks, out_dir, workers)
    if name == "ray":
        return lambda tasks, out_dir: run_ray(tasks, out_dir, workers, address)
    choices = ", ".join(EXECUTORS)
    raise ExecutorUnavailableError(f"--executor must be one of {choices}, not {name!r}")

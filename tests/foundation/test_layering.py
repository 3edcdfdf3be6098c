"""The layers import downwards only (issue 13, "untangle the step's layout").

The command line is one top package, `cli/`: it imports the libraries, and no library module
imports it (before, the command modules lived inside the libraries and imported
`experiments.cli_errors` upwards). The scenario layer, `bridge/scenario/`, runs one step of the
network and knows no control plane: the runner or the env attaches one through its `StepControl`
protocol. Both rules are read off the source with `ast`, so a new import that breaks them fails
here, whether or not any test executes it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("qchannel", "bridge", "control", "kme", "experiments")
# The modules that were the command line before it moved to cli/: none may come back.
OLD_CLI_MODULES = ("experiments.cli", "experiments.cli_errors", "experiments.run_cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, a module of `package`
    (relative imports are resolved against it); `from pkg import name` also yields pkg.name,
    since the name may be a module."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def file_imports(path: Path) -> Iterator[tuple[int, str]]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imported_modules(path.read_text(), package)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def library_files() -> list[Path]:
    """Every library source file. `__main__.py` files are entry points (`python -m
    bridge.ns3gym` is how ns3-gym launches the simulation), i.e. command line by nature: they
    may hand over to `cli`, and no library module imports them."""
    files = [
        path
        for package in LIBRARIES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "__main__.py" and not path.name.endswith("_pb2.py")
    ]
    assert len(files) > 50, f"expected the library packages under {ROOT}, found {len(files)}"
    return files


def test_the_import_walker_resolves_absolute_relative_and_from_imports():
    source = (
        "import cli.main\n"
        "from cli import errors\n"
        "from . import spaces\n"
        "from ..scenario.config import load_scenario\n"
        "def lazy():\n"
        "    from experiments.cli_errors import fail\n"
    )
    found = {module for _, module in imported_modules(source, "bridge.ns3gym")}
    assert {"cli.main", "cli", "cli.errors", "bridge.ns3gym.spaces"} <= found
    assert "bridge.scenario.config.load_scenario" in found
    assert "experiments.cli_errors" in found  # imports inside functions count too


@pytest.mark.parametrize("package", LIBRARIES)
def test_no_library_module_imports_the_command_line(package):
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in library_files()
        if path.relative_to(ROOT).parts[0] == package
        for line, module in file_imports(path)
        if _within(module, "cli") or any(_within(module, old) for old in OLD_CLI_MODULES)
    ]
    assert not offenders, "the CLI imports the libraries, never the reverse:\n" + "\n".join(
        offenders
    )


def test_the_old_command_line_modules_are_gone():
    left = [
        name
        for name in OLD_CLI_MODULES
        if (ROOT / Path(*name.split("."))).with_suffix(".py").exists()
    ]
    left += [
        str(path.relative_to(ROOT))
        for package in LIBRARIES
        for path in (ROOT / package).rglob("cli.py")
    ]
    assert not left, f"command-line modules inside the libraries: {left}"


def test_the_scenario_layer_knows_no_control_plane():
    files = sorted((ROOT / "bridge" / "scenario").glob("*.py"))
    assert any(path.name == "step.py" for path in files)
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in files
        for line, module in file_imports(path)
        if _within(module, "control") or _within(module, "bridge.env")
    ]
    assert not offenders, "the runner or env attaches the control plane:\n" + "\n".join(offenders)

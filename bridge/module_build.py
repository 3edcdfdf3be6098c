"""Compile our ns-3 module (`ns3-scratch/`) against the installed `ns3` wheel.

Why not CMake or ns-3's own build: the wheel ships headers and shared libraries but no ns-3 source
tree, and its CMake config points at `/usr/include/glib-2.0` which a slim machine lacks. The module
is small, so we drive the system C++ compiler directly with the same defines the wheel was built
with (`NS3_LOG_ENABLE`, `NS3_ASSERT_ENABLE`, `NS3_BUILD_PROFILE_RELEASE`).

Why a source-hash cache: compiling against ns-3's headers takes tens of seconds, and every process
(each pytest run, each vector-env worker) needs the library. The output directory is named by a hash
of every source file, the compiler's version, the flags and the ns-3 version, so an unchanged tree
is built once per machine and a changed one can never load a stale library. A file lock keeps
parallel processes from building the same tree twice; the build happens in a temporary directory
that is renamed into place only when complete, so an interrupted build leaves nothing half-made.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

LIBRARY_NAME = "libqkdnet-qkd.so"
TEST_LIBRARY_NAME = "libqkdnet-qkd-test.so"
TEST_RUNNER_NAME = "qkd-test-runner"
#: ns-3 modules our C++ code links against (the wheel's `libns3.<ver>-<name>.so`).
NS3_MODULES = (
    "core",
    "network",
    "internet",
    "point-to-point",
    "applications",
    "stats",
    "nix-vector-routing",
)
#: Defines the ns3 wheel was compiled with (from its ns3Targets.cmake); headers change with them.
NS3_DEFINES = ("NS3_LOG_ENABLE", "NS3_ASSERT_ENABLE", "NS3_BUILD_PROFILE_RELEASE")
CXX_FLAGS = ("-std=c++20", "-O2", "-fPIC", "-Wall", "-Wno-unused-variable")
BUILD_FORMAT_VERSION = "2"  # bump when the layout of a build directory changes
#: Environment variable naming a finished build to load as is, without a compiler (a container
#: image compiles the module in a builder stage and ships only the result).
PREBUILT_ENV = "QKDNET_MODULE_DIR"
#: File in a build directory holding the hash of the sources it was built from (compiler aside).
SOURCES_STAMP = "sources.sha256"


class ModuleBuildError(RuntimeError):
    """The C++ module could not be built; the message carries the compiler's own output."""


@dataclass(frozen=True)
class Ns3Wheel:
    """Where the installed ns3 wheel keeps its headers and libraries."""

    prefix: Path
    include_dir: Path
    lib_dir: Path
    version: str  # e.g. "3.44" as in libns3.44-core.so
    dist_version: str  # e.g. "3.44.post0"


@dataclass(frozen=True)
class ModuleArtifacts:
    """A finished build of ns3-scratch, ready for cppyy."""

    build_dir: Path
    include_dir: Path  # contains ns3/qkd-*.h
    library: Path
    test_runner: Path | None
    examples: dict[str, Path]


def find_ns3_wheel() -> Ns3Wheel:
    """Locate the `ns3` wheel without importing it (importing loads all of ns-3 into cppyy)."""
    spec = importlib.util.find_spec("ns3")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleBuildError("the ns3 wheel is not installed: pip install ns3==3.44.post0")
    prefix = Path(next(iter(spec.submodule_search_locations)))
    include_dir = prefix / "include"
    lib_dir = next((prefix / d for d in ("lib64", "lib") if (prefix / d).is_dir()), None)
    if lib_dir is None or not (include_dir / "ns3" / "core-module.h").is_file():
        raise ModuleBuildError(f"the ns3 wheel at {prefix} has no include/ or lib64/ directory")
    cores = sorted(lib_dir.glob("libns3.*-core.so"))
    match = re.match(r"libns(\d+\.\d+(?:\.\d+)?)-core\.so$", cores[0].name) if cores else None
    if match is None:
        raise ModuleBuildError(f"no libns3.*-core.so in {lib_dir}")
    return Ns3Wheel(
        prefix=prefix,
        include_dir=include_dir,
        lib_dir=lib_dir,
        version=match.group(1),
        dist_version=importlib.metadata.version("ns3"),
    )


def find_sources_dir() -> Path:
    """The ns3-scratch tree: $QKDNET_NS3_SCRATCH, else next to the installed packages."""
    env = os.environ.get("QKDNET_NS3_SCRATCH")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parent.parent / "ns3-scratch")
    for candidate in candidates:
        if (candidate / "model").is_dir():
            return candidate
    raise ModuleBuildError(
        "cannot find the ns3-scratch sources (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); install qkdnet from its source tree (pip install -e .) or set QKDNET_NS3_SCRATCH"
    )


def default_cache_dir() -> Path:
    """$QKDNET_CACHE_DIR, else $XDG_CACHE_HOME/qkdnet, else ~/.cache/qkdnet."""
    env = os.environ.get("QKDNET_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qkdnet"


def find_compiler() -> str:
    """$CXX, else g++, else c++; a clear error if none is on PATH."""
    for name in filter(None, (os.environ.get("CXX"), "g++", "c++")):
        path = shutil.which(name)
        if path:
            return path
    raise ModuleBuildError(
        "no C++ compiler found (tried $CXX, g++, c++): install one, e.g. `apt-get install g++`,"
        " or set CXX"
    )


def _compiler_identity(compiler: str) -> str:
    try:
        out = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ModuleBuildError(f"the C++ compiler {compiler} does not run: {exc}") from exc
    return out.stdout.splitlines()[0] if out.stdout else compiler


def _source_files(sources: Path, subdirs: Iterable[str], suffixes: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for sub in subdirs:
        files.extend(p for p in sorted((sources / sub).glob("*")) if p.suffix in suffixes)
    return files


def source_hash(sources: Path, compiler_id: str, wheel: Ns3Wheel) -> str:
    """Hash of everything that changes the build output."""
    digest = hashlib.sha256()
    for token in (BUILD_FORMAT_VERSION, compiler_id, wheel.dist_version, *CXX_FLAGS, *NS3_DEFINES):
        digest.update(token.encode() + b"\0")
    _hash_source_files(digest, sources)
    return digest.hexdigest()[:16]


def _hash_source_files(digest: hashlib._Hash, sources: Path) -> None:
    for path in _source_files(sources, ("model", "helper", "examples", "test"), (".h", ".cc")):
        digest.update(str(path.relative_to(sources)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")


def sources_only_hash(sources: Path) -> str:
    """Hash of the C++ sources alone: lets a prebuilt module be checked where no compiler runs."""
    digest = hashlib.sha256()
    _hash_source_files(digest, sources)
    return digest.hexdigest()


def prebuilt_module(build_dir: Path) -> ModuleArtifacts:
    """The finished build in `build_dir` ($QKDNET_MODULE_DIR), checked but never compiled.

    Why: the compiler's identity is part of the cache key, so a machine without a compiler (a lean
    container image) could not even look up its cached build. The build directory carries the hash
    of the sources it was made from; when the sources are present and differ, loading it would run
    stale C++, so that is an error rather than a silent mismatch.
    """
    library = build_dir / "lib" / LIBRARY_NAME
    if not library.is_file():
        raise ModuleBuildError(
            f"${PREBUILT_ENV}={build_dir} holds no lib/{LIBRARY_NAME}: point it at a directory"
            " made by `qkdnet build-module`, or unset it to build here"
        )
    stamp = build_dir / SOURCES_STAMP
    if not stamp.is_file():
        raise ModuleBuildError(
            f"${PREBUILT_ENV}={build_dir} has no {SOURCES_STAMP} (made by an older qkdnet):"
            " rebuild it with `qkdnet build-module`"
        )
    try:
        sources = find_sources_dir()
    except ModuleBuildError:
        sources = None  # an installed copy without the C++ tree: nothing to compare against
    if sources is not None and stamp.read_text().strip() != sources_only_hash(sources):
        raise ModuleBuildError(
            f"${PREBUILT_ENV}={build_dir} was built from other sources than {sources}:"
            " rebuild it (`qkdnet build-module`) or unset it"
        )
    runner = build_dir / "bin" / TEST_RUNNER_NAME
    bin_dir = build_dir / "bin"
    examples = {
        p.name: p
        for p in (sorted(bin_dir.iterdir()) if bin_dir.is_dir() else [])
        if p.is_file() and p.name != TEST_RUNNER_NAME
    }
    return ModuleArtifacts(
        build_dir=build_dir,
        include_dir=build_dir / "include",
        library=library,
        test_runner=runner if runner.is_file() else None,
        examples=examples,
    )


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise ModuleBuildError(f"compiling {what} failed (exit {result.returncode}):\n{output}")


class _Builder:
    """One build of the tree into a staging directory."""

    def __init__(self, sources: Path, wheel: Ns3Wheel, compiler: str, stage: Path) -> None:
        self.sources = sources
        self.wheel = wheel
        self.compiler = compiler
        self.stage = stage
        self.include_dir = stage / "include"
        self.obj_dir = stage / "obj"
        self.lib_dir = stage / "lib"
        self.bin_dir = stage / "bin"

    def stage_headers(self) -> None:
        """ns-3 code includes module headers as "ns3/<name>.h": give ours that layout."""
        target = self.include_dir / "ns3"
        target.mkdir(parents=True)
        for header in _source_files(self.sources, ("model", "helper"), (".h",)):
            shutil.copy2(header, target / header.name)

    def _cflags(self) -> list[str]:
        return [
            *CXX_FLAGS,
            *(f"-D{d}" for d in NS3_DEFINES),
            f"-I{self.include_dir}",
            f"-I{self.wheel.include_dir}",
        ]

    def _ns3_libs(self) -> list[str]:
        libs = [f"-L{self.wheel.lib_dir}", f"-Wl,-rpath,{self.wheel.lib_dir}"]
        libs += [f"-lns{self.wheel.version}-{m}" for m in NS3_MODULES]
        return libs

    def compile_objects(
        self, files: list[Path], tick: Callable[[str], None], jobs: int
    ) -> list[Path]:
        self.obj_dir.mkdir(parents=True, exist_ok=True)

        def one(src: Path) -> Path:
            obj = self.obj_dir / f"{src.parent.name}-{src.stem}.o"
            _run([self.compiler, *self._cflags(), "-c", str(src), "-o", str(obj)], src.name)
            tick(src.name)
            return obj

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, files))

    def link_shared(self, objects: list[Path], name: str, extra: list[str]) -> Path:
        self.lib_dir.mkdir(parents=True, exist_ok=True)
        out = self.lib_dir / name
        cmd = [self.compiler, "-shared", "-o", str(out), *map(str, objects), *extra]
        _run(cmd + self._ns3_libs(), name)
        return out

    def link_program(self, objects: list[Path], name: str, libs: list[Path]) -> Path:
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        out = self.bin_dir / name
        lib_args: list[str] = ["-Wl,--no-as-needed"]
        for lib in libs:
            lib_args += [str(lib), f"-Wl,-rpath,{lib.parent}"]
        _run(
            [self.compiler, "-o", str(out), *map(str, objects), *lib_args, *self._ns3_libs()], name
        )
        return out


def _test_runner_source(obj_dir: Path) -> Path:
    """ns-3's test.py drives suites through TestRunner::Run; a two-line main gives us the same."""
    path = obj_dir / "qkd-test-runner.cc"
    path.write_text(
        '#include "ns3/test.h"\n'
        "int main(int argc, char* argv[]) { return ns3::TestRunner::Run(argc, argv); }\n"
    )
    return path


def build_module(
    *,
    with_tests: bool = False,
    with_examples: bool = False,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ModuleArtifacts:
    """Build ns3-scratch (or reuse the cached build of the same sources) and return its files.

    The library is always built; the ns-3 test runner and example programs are built in the same
    cache directory the first time they are asked for. `progress(label, done, total)` is called
    after each compiled file. With $QKDNET_MODULE_DIR set, that finished build is used instead
    (see `prebuilt_module`).
    """
    prebuilt = os.environ.get(PREBUILT_ENV)
    if prebuilt:
        artifacts = prebuilt_module(Path(prebuilt))
        if with_tests and artifacts.test_runner is None:
            raise ModuleBuildError(f"${PREBUILT_ENV}={prebuilt} has no test runner built")
        return artifacts
    sources = find_sources_dir()
    wheel = find_ns3_wheel()
    compiler = find_compiler()
    digest = source_hash(sources, _compiler_identity(compiler), wheel)
    root = (cache_dir or default_cache_dir()) / f"ns3-qkd-{digest}"
    root.parent.mkdir(parents=True, exist_ok=True)
    jobs = jobs or os.cpu_count() or 1

    from filelock import FileLock

    with FileLock(str(root) + ".lock"):
        if not (root / "lib" / LIBRARY_NAME).is_file():
            _build_into(root, sources, wheel, compiler, jobs, progress, parts=("lib",))
        wanted = []
        if with_tests and not (root / "bin" / TEST_RUNNER_NAME).is_file():
            wanted.append("tests")
        if with_examples and not _examples_built(root, sources):
            wanted.append("examples")
        if wanted:
            _extend_build(root, sources, wheel, compiler, jobs, progress, parts=tuple(wanted))
        _prune_old_builds(root.parent, keep=root)
    return _artifacts(root, sources)


def _prune_old_builds(cache: Path, keep: Path, max_builds: int = 4) -> None:
    """Keep the cache from growing with every edit: the newest few builds stay, the rest go.

    A process that still has an older library loaded is unaffected (the mapping outlives the
    file). Builds of other trees are other hashes and may be pruned too once they are old; they
    are rebuilt on demand.
    """
    builds = sorted(
        (p for p in cache.glob("ns3-qkd-*") if p.is_dir() and p != keep and ".tmp-" not in p.name),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in builds[max_builds - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)
        Path(str(stale) + ".lock").unlink(missing_ok=True)


def _examples_built(root: Path, sources: Path) -> bool:
    names = [p.stem for p in _source_files(sources, ("examples",), (".cc",))]
    return all((root / "bin" / name).is_file() for name in names)


def _artifacts(root: Path, sources: Path) -> ModuleArtifacts:
    runner = root / "bin" / TEST_RUNNER_NAME
    examples = {
        p.stem: root / "bin" / p.stem
        for p in _source_files(sources, ("examples",), (".cc",))
        if (root / "bin" / p.stem).is_file()
    }
    return ModuleArtifacts(
        build_dir=root,
        include_dir=root / "include",
        library=root / "lib" / LIBRARY_NAME,
        test_runner=runner if runner.is_file() else None,
        examples=examples,
    )


def _counter(total: int, progress: Callable[[str, int, int], None] | None) -> Callable[[str], None]:
    done = [0]

    def tick(label: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(label, done[0], total)

    return tick


def _build_into(
    root: Path,
    sources: Path,
    wheel: Ns3Wheel,
    compiler: str,
    jobs: int,
    progress: Callable[[str, int, int], None] | None,
    parts: tuple[str, ...],
) -> None:
    """Fresh build of the library into a temporary directory, then an atomic rename."""
    stage = Path(tempfile.mkdtemp(prefix=root.name + ".tmp-", dir=root.parent))
    try:
        builder = _Builder(sources, wheel, compiler, stage)
        builder.stage_headers()
        lib_sources = _source_files(sources, ("model", "helper"), (".cc",))
        objects = builder.compile_objects(lib_sources, _counter(len(lib_sources), progress), jobs)
        builder.link_shared(objects, LIBRARY_NAME, [])
        (stage / SOURCES_STAMP).write_text(sources_only_hash(sources) + "\n")
        if root.exists():
            shutil.rmtree(root)
        stage.rename(root)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _extend_build(
    root: Path,
    sources: Path,
    wheel: Ns3Wheel,
    compiler: str,
    jobs: int,
    progress: Callable[[str, int, int], None] | None,
    parts: tuple[str, ...],
) -> None:
    """Add the test runner and/or examples next to an existing library build.

    Outputs are written under temporary names and renamed, so a reader never sees a half-linked
    program.
    """
    builder = _Builder(sources, wheel, compiler, root)
    builder.obj_dir = Path(tempfile.mkdtemp(prefix="obj-", dir=root))
    builder.lib_dir = Path(tempfile.mkdtemp(prefix="lib-", dir=root))
    builder.bin_dir = Path(tempfile.mkdtemp(prefix="bin-", dir=root))
    library = root / "lib" / LIBRARY_NAME
    try:
        test_sources = _source_files(sources, ("test",), (".cc",)) if "tests" in parts else []
        example_sources = (
            _source_files(sources, ("examples",), (".cc",)) if "examples" in parts else []
        )
        runner_main = [_test_runner_source(builder.obj_dir)] if test_sources else []
        everything = test_sources + runner_main + example_sources
        objects = dict(
            zip(
                everything,
                builder.compile_objects(everything, _counter(len(everything), progress), jobs),
                strict=True,
            )
        )
        final_bin = root / "bin"
        final_lib = root / "lib"
        final_bin.mkdir(exist_ok=True)
        if test_sources:
            test_lib = builder.link_shared(
                [objects[s] for s in test_sources],
                TEST_LIBRARY_NAME,
                [str(library), f"-Wl,-rpath,{final_lib}"],
            )
            test_lib.replace(final_lib / TEST_LIBRARY_NAME)
            runner = builder.link_program(
                [objects[runner_main[0]]], TEST_RUNNER_NAME, [final_lib / TEST_LIBRARY_NAME]
            )
            runner.replace(final_bin / TEST_RUNNER_NAME)
        for src in example_sources:
            program = builder.link_program([objects[src]], src.stem, [library])
            program.replace(final_bin / src.stem)
    finally:
        for tmp in (builder.obj_dir, builder.lib_dir, builder.bin_dir):
            shutil.rmtree(tmp, ignore_errors=True)

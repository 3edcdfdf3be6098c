"""One-line CLI errors for bad input, shared by every `qkdnet` sub-command.

Why: the brief's rule is that bad input gets a clear one-line error naming the problem and a
non-zero exit, never a traceback. Sub-commands wrap their body in `user_errors()`; anything that is
the user's fault (validation, a missing file, a bad value) becomes `qkdnet: error: ...` on stderr
and exit status 2. A C++ build failure also shows the compiler's own output below that line.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import typer

EXIT_USAGE = 2


def format_validation_error(exc: Exception) -> str:
    """pydantic's multi-line report squeezed into one line naming each bad field."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts = []
    for err in errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "value"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def fail(message: str, detail: str | None = None) -> typer.Exit:
    """Print `qkdnet: error: message` (and an optional detail block), return the Exit to raise."""
    print(f"qkdnet: error: {message}", file=sys.stderr)
    if detail:
        print(detail, file=sys.stderr)
    return typer.Exit(EXIT_USAGE)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn expected failures into one-line errors with exit status 2."""
    from pydantic import ValidationError

    from bridge.module_build import ModuleBuildError

    try:
        yield
    except ValidationError as exc:
        raise fail(format_validation_error(exc)) from None
    except ModuleBuildError as exc:
        first, _, rest = str(exc).partition("\n")
        raise fail(first, rest or None) from None
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise fail(str(exc).strip("'\"")) from None

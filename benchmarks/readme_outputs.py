"""The outputs README.md shows, generated from the commands that print them (and checked by tests/test_readme_outputs.py).

Each shown block is a fenced block right under its heading; it holds the
command's first lines, exactly as printed to a pipe (trailing spaces
stripped), down to the end of the first table, then ``...``.

    python benchmarks/readme_outputs.py           # rewrite the blocks in README.md
    python benchmarks/readme_outputs.py --check   # exit 1 when a block differs from what the command prints
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"

#: heading of the block -> the klcode arguments whose output it shows (run from the repository root).
SHOWN = {
    "## What `make run` shows": ["compare", "corpora/canterbury/alice29.txt", "corpora/canterbury/asyoulik.txt"],
}
FENCE = "```"
MORE = "..."


def command_lines(args: list[str]) -> list[str]:
    """What ``klcode ARGS`` prints to a pipe, from the repository root: its lines to the end of the first table."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from klcode.cli import main

    out = io.StringIO()
    with contextlib.chdir(REPO_ROOT), contextlib.redirect_stdout(out):
        code = main(list(args))
    if code != 0:
        raise RuntimeError(f"klcode {' '.join(args)} exited with {code}")
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    end = next((k for k, line in enumerate(lines) if line.startswith("└")), len(lines) - 1)
    return lines[: end + 1] + [MORE]


def block_span(text: list[str], heading: str) -> tuple[int, int]:
    """Line numbers of the first fenced block after ``heading``: (first line inside, closing fence)."""
    start = text.index(heading)
    opening = next(k for k in range(start + 1, len(text)) if text[k].startswith(FENCE))
    closing = next(k for k in range(opening + 1, len(text)) if text[k].startswith(FENCE))
    return opening + 1, closing


def shown_lines(heading: str, readme: Path = README) -> list[str]:
    """The lines of the README's block under ``heading``."""
    text = readme.read_text(encoding="utf-8").splitlines()
    first, closing = block_span(text, heading)
    return text[first:closing]


def rewrite(readme: Path = README) -> list[str]:
    """Put each command's lines into its block of ``readme``; the headings whose block changed."""
    text = readme.read_text(encoding="utf-8").splitlines()
    changed = []
    for heading, args in SHOWN.items():
        first, closing = block_span(text, heading)
        lines = command_lines(args)
        if text[first:closing] != lines:
            text[first:closing] = lines
            changed.append(heading)
    readme.write_text("\n".join(text) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="readme_outputs.py", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a block differs")
    args = parser.parse_args(argv)
    if args.check:
        stale = [heading for heading, command in SHOWN.items() if shown_lines(heading) != command_lines(command)]
        for heading in stale:
            print(f"README.md: the block under {heading!r} is not what its command prints", file=sys.stderr)
        return 1 if stale else 0
    for heading in rewrite():
        print(f"README.md: rewrote the block under {heading!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

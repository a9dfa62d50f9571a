"""Groundwork (issue 9): lazy heavy imports, extras that exist, and the bad inputs of the audit, each one line."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Dependencies imported only where they are used: never by ``import klcode`` or ``klcode --help``.
HEAVY = ("numba", "matplotlib", "constriction", "zstandard", "pyppmd", "scipy", "dask", "torch", "transformers")


def _blocked(names) -> str:
    return "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in names)


def test_import_klcode_and_help_load_no_heavy_dependency():
    code = _blocked(HEAVY) + (
        "import klcode\n"
        "from klcode.cli.main import cli\n"
        "try:\n"
        "    cli.main(['--help'], prog_name='klcode', standalone_mode=False)\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "for command in sorted(cli.commands):\n"
        "    cli.main([command, '--help'], prog_name='klcode', standalone_mode=False)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Usage: klcode" in result.stdout


def test_every_extra_named_in_messages_and_docs_exists():
    """A ``klcode[NAME]`` anywhere in the package, the README or docs/ names an extra of pyproject.toml."""
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"])
    files = [*sorted((ROOT / "klcode").rglob("*.py")), ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    named = {}
    for path in files:
        for name in re.findall(r"klcode\[([A-Za-z0-9_,-]+)\]", path.read_text(encoding="utf-8")):
            for extra in name.split(","):
                named.setdefault(extra, path.relative_to(ROOT).as_posix())
    unknown = {extra: where for extra, where in named.items() if extra not in extras}
    assert not unknown, f"extras named but not in pyproject.toml: {unknown}"


def test_no_message_says_a_dependency_is_missing():
    """constriction, matplotlib and zstandard are dependencies: no code path tells the user to install them."""
    pattern = re.compile(r"(constriction|matplotlib|zstandard)[^\n]{0,40}not installed")
    offenders = [path.relative_to(ROOT).as_posix() for path in sorted((ROOT / "klcode").rglob("*.py"))
                 if pattern.search(path.read_text(encoding="utf-8"))]
    assert not offenders

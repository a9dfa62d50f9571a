"""The outputs README.md shows are what the commands print (regenerate with python benchmarks/readme_outputs.py)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("readme_outputs", ROOT / "benchmarks" / "readme_outputs.py")
readme_outputs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(readme_outputs)


@pytest.mark.parametrize("heading", list(readme_outputs.SHOWN))
def test_shown_output_is_what_the_command_prints(heading):
    shown = readme_outputs.shown_lines(heading)
    printed = readme_outputs.command_lines(readme_outputs.SHOWN[heading])
    assert shown == printed, "README drifted: run python benchmarks/readme_outputs.py"


def test_the_shown_command_is_the_one_make_run_runs():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    args = readme_outputs.SHOWN["## What `make run` shows"]
    assert f"$(BIN)/klcode {' '.join(args)}\n" in makefile


def test_a_stale_block_is_found_and_rewritten(tmp_path):
    heading = "## What `make run` shows"
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n\n{heading}\n\n```\nold output\n```\n\nafter\n", encoding="utf-8")
    assert readme_outputs.shown_lines(heading, stale) == ["old output"]
    assert readme_outputs.rewrite(stale) == [heading]
    assert readme_outputs.shown_lines(heading, stale) == readme_outputs.command_lines(readme_outputs.SHOWN[heading])
    assert stale.read_text(encoding="utf-8").endswith("```\n\nafter\n")


def test_the_readme_states_the_ngram_limit():
    from klcode.text.tokenize import MAX_NGRAM

    assert f"--ngram K` uses overlapping K-grams (K ≤ {MAX_NGRAM}" in (ROOT / "README.md").read_text(encoding="utf-8")

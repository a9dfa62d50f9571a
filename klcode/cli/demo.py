"""klcode demo: the teaching lessons."""

from __future__ import annotations

import click

from ..render.documents import FORMATS
from .common import (
    emit,
    output_path,
)


@click.command("demo")
@click.argument("name", required=False, metavar="NAME")
@click.option("--list", "list_demos", is_flag=True, help="List the demos and what each teaches.")
@click.option("--explain", is_flag=True, help="Walk through the reasoning step by step, with the actual values.")
@click.option("--p", "p_value", default=None, help="The true distribution (each demo says what it accepts; see --list).")
@click.option("--q", "q_value", default=None, help="The model (each demo says what it accepts; see --list).")
@click.option("--n", type=click.IntRange(min=1), default=None, help="Sample size (flips, tokens) where the demo draws samples.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random generator.")
@click.option("--plot", default=None, metavar="FILE.png|FILE.svg", callback=output_path, help="Draw the demo's figure (needs matplotlib).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format: a table for people, or json, csv, markdown.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("-o", "--output", default=None, metavar="FILE", callback=output_path, help="Write the output to FILE (atomically) instead of stdout.")
def demo(name: str | None, list_demos: bool, explain: bool, p_value: str | None, q_value: str | None, n: int | None,
         seed: int, plot: str | None, fmt: str, as_json: bool, output: str | None) -> None:
    """The classic KL lessons, reproduced with real codes and exact numbers.

    \b
    Examples:
      klcode demo --list
      klcode demo binomial --explain
      klcode demo coin --q 0.9 --n 100000 --plot coin.png
    """
    from ..demos import DemoOptions, load_all
    from ..render.documents import demo_document, demos_list_document

    demos = load_all()
    if list_demos:
        emit(demos_list_document(demos), fmt, as_json, output, False)
        return
    if name is None:
        raise click.UsageError(f"name a demo ({', '.join(demos)}) or give --list")
    if name not in demos:
        raise click.UsageError(f"unknown demo {name!r} (choose from {', '.join(demos)})")
    if plot is not None and not plot.lower().endswith((".png", ".svg")):
        raise click.UsageError(f"--plot file must end in .png or .svg (got {plot!r})")
    result = demos[name].run(DemoOptions(p=p_value, q=q_value, n=n, seed=seed))
    if plot is not None:
        from ..render.plots import save_panels

        save_panels(result.panels, plot, title=f"klcode demo {name}: {result.title}")
    extra = {"command": "demo", "parameters": {"p": p_value, "q": q_value, "n": n, "seed": seed}, "plot": plot}
    emit(demo_document(result, explain, extra), fmt, as_json, output, False)

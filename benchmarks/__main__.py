"""Run every benchmark and collect them: one JSON file and one Markdown summary.

``python -m benchmarks`` (or ``make bench``) runs, each in its own process so
that one does not inherit the memory of another:

* ``bench_libraries.py``: klcode against np.bincount, collections.Counter,
  dahuffman, bitarray, constriction, zlib and lzma on the same byte tokens;
* ``bench_huffman.py``: klcode's Huffman path against dahuffman's;
* ``bench_coders.py``: every klcode coder;
* ``bench_counting.py``: counting throughput, peak memory, whole commands;
* ``bench_context.py``: the cm context-mixing model against bz2, xz, zstd, zlib and PPMd: bits per byte, speed, memory.
* ``bench_models.py``: ``klcode models`` on a generated 2 GB llama.cpp-format pair (throughput, peak RSS).
* ``bench_coverage.py``: coverage of the bootstrap intervals on simulated data with known KL, and what
  compare's --estimator, --keyness and --bootstrap cost.
* ``bench_ppm.py``: the token PPM on words: bits per word on the Canterbury texts and Genesis (KJV) against
  xz -9e and bz2 -9, encode/decode tokens per second.

Each script writes its own JSON next to the combined one; the combined JSON
(``benchmarks/results/all.json``) holds them all under ``benchmarks``, the
machine and the date, and ``tables``: every table ready to render, in the form
of :func:`common.table` (``id``, ``title``, ``columns``, ``align``, ``rows``
of formatted strings, ``notes``, ``source``).  The Markdown summary
(``benchmarks/results/summary.md``) is those tables, also printed on stdout;
the scripts' own output and the progress lines go to stderr.

``--quick`` is a smoke run of about 1-2 minutes: 2 MB of data, dahuffman on
0.2 MB, no lzma or bz2, no peak-memory part.  Its figures are not the ones to
publish.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:  # python -m benchmarks: import the scripts' common as they do
    sys.path.insert(0, str(BENCH_DIR))

import bench_context  # noqa: E402
import bench_coverage  # noqa: E402
import bench_libraries  # noqa: E402
import bench_matrix  # noqa: E402
import bench_ppm  # noqa: E402
import bench_scale  # noqa: E402
import common  # noqa: E402

#: The benchmarks, in the order they run: name -> (script, arguments of a full run, of a --quick run).
BENCHMARKS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "libraries": ("bench_libraries.py", (), ("--megabytes", "2", "--dahuffman-megabytes", "0.2", "--skip", "lzma")),
    "huffman": ("bench_huffman.py", (), ("--megabytes", "2", "--dahuffman-megabytes", "0.2")),
    "coders": ("bench_coders.py", (), ("--megabytes", "2", "--skip", "lzma,bz2")),
    "counting": ("bench_counting.py", (), ("--megabytes", "2", "--skip-memory")),
    "context": ("bench_context.py", (), ("--quick",)),
    "models": ("bench_models.py", (), ("--gigabytes", "0.2")),
    "coverage": ("bench_coverage.py", (), ("--runs-per-case", "100", "--replicates", "200")),
    "ppm": ("bench_ppm.py", (), ()),
    "matrix": ("bench_matrix.py", (), ("--files", "60")),
    "scale": ("bench_scale.py", (), ("--megabytes", "2", "--types", "100000")),
}
DEFAULT_JSON = common.RESULTS_DIR / "all.json"
DEFAULT_MARKDOWN = common.RESULTS_DIR / "summary.md"
SCHEMA = "klcode-benchmarks/1"


# ----------------------------------------------------------------------------- tables of each benchmark
def mb(value: float) -> str:
    return f"{value / common.MB:,.2f}"


def huffman_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    config, sizes, ratios = results["config"], results["compressed"], results["speed_ratios_klcode_over_dahuffman"]
    rows = [  # building works on the counts, not on the data: no throughput
        (t["coder"], t["stage"], mb(t["input_bytes"]), f"{t['median_s']:.4f}",
         f"{t['mb_per_s']:,.1f}" if t["stage"] != "build" else "—",
         f"{t['tokens_per_s'] / 1e6:,.2f}" if t["stage"] != "build" else "—")
        for t in results["timings"]
    ]
    k, d = sizes["klcode"], sizes["dahuffman"]
    notes = [
        f"Data: the 4 Canterbury texts x{config['repeats']} = {config['input_bytes']:,} bytes, one token per byte; "
        f"median of {config['runs']} runs; every decode verified. klcode: count (bincount_chunked), build "
        "(HuffmanCode.from_distribution), encode (vectorized numpy), decode (bitarray's C decode) from the raw bytes "
        "each run; dahuffman: HuffmanCodec.from_frequencies, encode, decode (pure Python).",
    ]
    if not config["same_data"]:
        notes.append(f"NOTE: dahuffman timed on a prefix of {config['dahuffman_input_bytes']:,} bytes: "
                     "its MB/s compare, its seconds and sizes do not.")
    notes.append(
        f"Compressed: klcode {k['bits']:,} bits ({k['bits_per_token']:.6f} bits/token, exactly Σ count·length); "
        f"dahuffman {d['bits']:,} bits ({d['bits_per_token']:.6f} bits/token, its EOF leaf and padding included). "
        f"klcode/dahuffman in MB/s: encode {ratios['encode']:,.1f}x, decode {ratios['decode']:,.1f}x."
    )
    return [common.table(
        "huffman", "Huffman on byte tokens: klcode against dahuffman",
        ("coder", "stage", "input MB", "median s", "MB/s", "Mtokens/s"), rows, left={0, 1}, notes=notes,
        source=results["benchmark"],
    )]


def coders_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    config = results["config"]
    timings = {(t["coder"], t["stage"]): t for t in results["timings"]}
    rows = []
    for coder in results["coders"]:
        encode, decode = timings[coder["label"], "encode"], timings[coder["label"], "decode"]
        rows.append((
            coder["label"], "order-0" if coder["order0"] else "contextual", f"{coder['build_s']:.4f}",
            f"{encode['median_s']:.3f}", f"{encode['mb_per_s']:,.1f}", f"{encode['tokens_per_s'] / 1e6:,.2f}",
            f"{decode['median_s']:.3f}", f"{decode['mb_per_s']:,.1f}", f"{decode['tokens_per_s'] / 1e6:,.2f}",
            f"{coder['bits_per_token']:.4f}",
        ))
    notes = [
        f"Data: the 4 Canterbury texts x{config['repeats']} = {config['input_bytes']:,} bytes, one token per byte; "
        f"model of the order-0 coders: the byte distribution of the data (H(p) = {config['model_entropy_bits']:.6f} "
        f"bits/token); each coder built once (build s), encode and decode median of {config['runs']} runs, every "
        "decode verified. Decodes return int64 ids.",
    ]
    if config["repeats"] > 1 and any(not coder["order0"] for coder in results["coders"]):
        notes.append("Compressors whose window holds a whole copy of the texts (lzma, zstd) see the repetition of the "
                     "data: their bits/token say nothing about the texts, only their speeds do.")
    notes += [f"NOTE: {label} not timed: {reason}" for label, reason in results["skipped"].items()]
    return [common.table(
        "coders", "Every klcode coder: build, encode, decode",
        ("coder", "kind", "build s", "encode s", "enc MB/s", "enc Mtok/s", "decode s", "dec MB/s", "dec Mtok/s",
         "bits/token"),
        rows, left={0, 1}, notes=notes, source=results["benchmark"],
    )]


def counting_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    config, tables = results["config"], []
    if "throughput" in results:
        baseline = {t["mode"]: t for t in results["throughput"] if t["method"] != "klcode"}
        rows = []
        for t in results["throughput"]:
            versus = ""
            if t["method"] == "klcode" and t["mode"] in baseline:
                versus = f"{t['mb_per_s'] / baseline[t['mode']]['mb_per_s']:.2f}x"
            target = t["target_mb_per_s"]
            rows.append((
                t["mode"], t["method"], f"{t['median_s']:.3f}", f"{t['mb_per_s']:,.1f}",
                f"{t['tokens_per_s'] / 1e6:,.2f}", f"≥ {target:g}" if target is not None else "", t["verdict"] or "",
                versus,
            ))
        tables.append(common.table(
            "counting-throughput", "Counting throughput (bytes, chars, words)",
            ("mode", "method", "median s", "MB/s", "Mtokens/s", "target MB/s", "", "vs baseline"),
            rows, left={0, 1, 6}, source=results["benchmark"],
            notes=[f"Data: 8 Canterbury and Genesis texts x{config['repeats']} = {config['input_bytes']:,} bytes, "
                   f"counted by count_corpus; median of {config['runs']} runs; totals verified against the baselines."],
        ))
    if "memory" in results:
        rows = [
            (m["mode"], f"{m['input_bytes'] / common.MB:,.1f}", f"{m['max_rss_mb']:,.1f}",
             f"< {m['target_max_rss_mb']:g}", m["verdict"], f"{m['wall_s']:.2f}")
            for m in results["memory"]
        ]
        method = results["memory"][0]["method"] if results["memory"] else "?"
        tables.append(common.table(
            "counting-memory", "Peak memory of `klcode count FILE --tokens MODE`",
            ("mode", "input MB", "max RSS MB", "target MB", "", "wall s"), rows, left={0, 4},
            notes=[f"One process per mode, measured by {method}."], source=results["benchmark"],
        ))
    if "commands" in results:
        rows = [
            (c["name"], f"{c['median_s']:.3f}", f"< {c['target_s']:g}" if c["target_s"] is not None else "",
             c["verdict"] or "")
            for c in results["commands"]
        ]
        tables.append(common.table(
            "counting-commands", "Whole klcode processes",
            ("command", "median s", "target s", ""), rows, left={0, 3}, source=results["benchmark"],
            notes=[f"Median of {config['runs']} runs, start-up included, stdout discarded, exit status 0: "
                   + "; ".join(f"{c['name']}: `{c['command']}`" for c in results["commands"]) + "."],
        ))
    return tables


TABLE_BUILDERS = {
    "libraries": bench_libraries.summary_tables,
    "huffman": huffman_tables,
    "coders": coders_tables,
    "counting": counting_tables,
    "context": bench_context.summary_tables,
    "models": lambda results: results["tables"],
    "coverage": bench_coverage.summary_tables,
    "ppm": bench_ppm.summary_tables,
    "matrix": bench_matrix.summary_tables,
    "scale": bench_scale.summary_tables,
}


# ----------------------------------------------------------------------------- summary
def machine_line(machine: dict[str, Any]) -> str:
    """One sentence of the machine: cores, memory, system, Python and the libraries' versions."""
    memory = f", {machine['memory_gib']:.0f} GiB" if machine.get("memory_gib") else ""
    system = machine["platform"].split("-")[0]
    libraries = ", ".join(
        f"{name} {machine[name]}" for name in ("numpy", *common.LIBRARIES, "zlib", "liblzma")
        if name != "klcode" and machine.get(name) not in (None, "unknown")
    )
    commit = f"; klcode at commit {machine['commit']}" if machine.get("commit") else ""
    return (f"{machine['cpu_count']} cores{memory}, {system} {machine['machine']}, "
            f"{machine['python_implementation']} {machine['python']}; {libraries}{commit}")


def summary_markdown(combined: dict[str, Any]) -> str:
    """The combined tables as one Markdown document, headed by the date, the machine and the command."""
    date = combined["date"]
    lines = [
        "# klcode benchmarks",
        "",
        f"Taken on {date[:10]} ({date[11:16]} UTC) on {machine_line(combined['machine'])}. "
        f"Command: `{combined['display_command']}`{' (QUICK smoke run: small sizes, not the figures to publish)' if combined['quick'] else ''}, "
        f"{combined['total_s'] / 60:.1f} min in all. MB = 10^6 bytes; medians of at least 5 runs.",
    ]
    for name, status in combined["failed"].items():
        lines += ["", f"FAILED: {name} exited with status {status}; its tables are missing."]
    for table in combined["tables"]:
        lines += ["", common.render_table(table, heading="##")]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- main
def parse_names(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(map(repr, unknown)) or repr(text)} (choose from {', '.join(BENCHMARKS)})"
        )
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run every benchmark (libraries, huffman, coders, counting), each in its own process, and "
        "collect them into one JSON file and one Markdown summary. Every decode and count is verified.",
        epilog="The summary on stdout, the benchmarks' own output and progress on stderr.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="smoke run of about 1-2 minutes: 2 MB of data, dahuffman on 0.2 MB, no lzma/bz2, "
                        "no peak-memory part (not the figures to publish)")
    parser.add_argument("--only", type=parse_names, default=tuple(BENCHMARKS), metavar="NAME[,NAME...]",
                        help=f"run only these benchmarks (default all: {', '.join(BENCHMARKS)})")
    parser.add_argument("--runs", type=int, default=common.DEFAULT_RUNS,
                        help=f"timed runs of every benchmark, at least {common.MIN_RUNS}; medians are reported "
                        f"(default {common.DEFAULT_RUNS})")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
                        help="the combined JSON; each benchmark's own JSON goes into the same directory "
                        f"(default {DEFAULT_JSON.relative_to(common.REPO_ROOT).as_posix()})")
    parser.add_argument("--markdown", type=Path, default=DEFAULT_MARKDOWN, metavar="PATH",
                        help=f"the Markdown summary (default {DEFAULT_MARKDOWN.relative_to(common.REPO_ROOT).as_posix()})")
    args = parser.parse_args(argv)
    if args.runs < common.MIN_RUNS:
        parser.error(f"--runs must be at least {common.MIN_RUNS} (got {args.runs})")
    return args


def run_benchmark(name: str, args: argparse.Namespace) -> tuple[int, float, Path, list[str]]:
    """Run one benchmark script in its own process (its stdout to our stderr); (status, seconds, its JSON, argv)."""
    script, full, quick = BENCHMARKS[name]
    path = args.json.parent / f"{name}.json"
    argv = [sys.executable, str(BENCH_DIR / script), *(quick if args.quick else full),
            "--runs", str(args.runs), "--json", str(path)]
    common.progress(f"=== {name}: {' '.join(argv[1:])}")
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=sys.stderr, cwd=common.REPO_ROOT, check=False)
    seconds = time.perf_counter() - start
    common.progress(f"=== {name}: exit status {done.returncode} after {seconds:.0f} s")
    return done.returncode, seconds, path, argv


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    machine = common.machine_info(common.library_versions())
    machine["commit"] = common.git_commit()
    date, command = machine.pop("date"), machine.pop("command")
    start = time.perf_counter()
    runs: dict[str, Any] = {}
    benchmarks: dict[str, Any] = {}
    failed: dict[str, int] = {}
    tables: list[dict[str, Any]] = []
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for name in args.only:
        status, seconds, path, child_argv = run_benchmark(name, args)
        runs[name] = {"argv": child_argv[1:], "exit_status": status, "wall_s": seconds, "json": str(path)}
        if status != 0:
            failed[name] = status
            continue
        benchmarks[name] = json.loads(path.read_text(encoding="utf-8"))
        tables += TABLE_BUILDERS[name](benchmarks[name])
    combined = {
        "schema": SCHEMA,
        "date": date,
        "machine": machine,
        "command": command,
        "display_command": shlex.join(("python", "-m", "benchmarks", *(argv if argv is not None else sys.argv[1:]))),
        "quick": args.quick,
        "total_s": time.perf_counter() - start,
        "runs": runs,
        "failed": failed,
        "tables": tables,
        "benchmarks": benchmarks,
    }
    summary = summary_markdown(combined)
    args.json.write_text(json.dumps(combined, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(summary, encoding="utf-8")
    print(summary, end="")
    common.progress(f"combined results written to {args.json} and {args.markdown} "
                    f"({combined['total_s'] / 60:.1f} min)")
    if failed:
        common.progress(f"FAILED: {', '.join(f'{name} (exit status {status})' for name, status in failed.items())}")
        return max(failed.values()) if all(status > 0 for status in failed.values()) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

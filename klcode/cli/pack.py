"""klcode pack / unpack: a file coded by a context model into a checked .klc container, and back."""

from __future__ import annotations

import os

import click

from ..render.documents import pack_document
from .common import emit, progress_bar
from .rate import parse_model_option

_OUTPUT_FORMATS = click.Choice(("table", "json"))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_output(source: str, target: str, force: bool) -> None:
    if _same_file(source, target):
        raise click.UsageError(f"the output {target!r} is the input; klcode never overwrites its input")
    if os.path.exists(target) and not force:
        raise click.UsageError(f"{target!r} exists; give --force to replace it")


def _read(path: str) -> bytes:
    from ..text.corpus import read_bytes

    return read_bytes(path)


@click.command("pack")
@click.argument("path", metavar="FILE")
@click.option("-o", "--output", default=None, metavar="FILE.klc", help="The container to write (default: FILE.klc).")
@click.option("--model", "model_text", default="cm", show_default=True, metavar="cm|ppm[:OPTIONS]",
              help="Context model of the bytes: cm[:order=2..8,memory=MiB] or ppm[:OPTIONS].")
@click.option("--force", is_flag=True, help="Replace the output if it exists (never the input).")
@click.option("--format", "fmt", type=_OUTPUT_FORMATS, default="table", show_default=True, help="Summary format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def pack(path: str, output: str | None, model_text: str, force: bool, fmt: str, as_json: bool, quiet: bool) -> None:
    """Code FILE's bytes with a context model into a .klc container (decoded back and checked first).

    The container holds the model settings, the length, the SHA-256 of FILE,
    CRC-32s of its header and payload, and the range-coded payload, so anyone
    can check a measured size: `klcode unpack` restores FILE exactly or stops
    with one error.

    \b
    Example:
      klcode pack corpora/canterbury/alice29.txt -o alice29.klc
    """
    from ..atomic import write_atomically
    from ..coders.container import pack_bytes, read_header

    spec = parse_model_option(model_text, "bytes")
    target = output or f"{path}.klc"
    if os.path.isdir(path):
        raise click.BadParameter(f"{path!r} is a directory; pack takes one file", param_hint="'FILE'")
    _check_output(path, target, force)
    data = _read(path)
    with progress_bar(f"packing {os.path.basename(path)}", lambda: len(data), quiet) as progress:
        blob = pack_bytes(data, spec, progress=progress)
    write_atomically(target, lambda out: out.write(blob))
    header = read_header(blob)
    record = {
        "input": path, "output": target, "model": spec.describe(), "original_bytes": len(data),
        "container_bytes": len(blob), "payload_bytes": header.payload_bytes,
        "header_bytes": len(blob) - header.payload_bytes,
        "payload_bits_per_byte": round(8 * header.payload_bytes / len(data), 6) if data else 0.0,
        "container_bits_per_byte": round(8 * len(blob) / len(data), 6) if data else 0.0,
        "sha256": header.sha256, "roundtrip": "verified",
    }
    emit(pack_document("pack", record), fmt, as_json, None, True)


@click.command("unpack")
@click.argument("path", metavar="FILE.klc")
@click.option("-o", "--output", default=None, metavar="FILE",
              help="The file to restore (default: FILE.klc without its .klc suffix).")
@click.option("--force", is_flag=True, help="Replace the output if it exists (never the input).")
@click.option("--format", "fmt", type=_OUTPUT_FORMATS, default="table", show_default=True, help="Summary format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def unpack(path: str, output: str | None, force: bool, fmt: str, as_json: bool, quiet: bool) -> None:
    """Restore the file of a .klc container; a truncated or corrupted container is an error, never a wrong file.

    The length, both CRC-32s and the SHA-256 of the decoded bytes are checked
    before anything is written (atomically).

    \b
    Example:
      klcode unpack alice29.klc -o alice29.txt
    """
    from ..atomic import write_atomically
    from ..coders.container import read_header, unpack_bytes

    if output is None:
        if not path.endswith(".klc") or len(path) <= 4:
            raise click.UsageError(f"{path!r} does not end in .klc; name the output with -o FILE")
        output = path[:-4]
    _check_output(path, output, force)
    blob = _read(path)
    header = read_header(blob)
    with progress_bar(f"unpacking {os.path.basename(path)}", lambda: header.original_bytes, quiet) as progress:
        data = unpack_bytes(blob, progress=progress)
    write_atomically(output, lambda out: out.write(data))
    record = {"input": path, "output": output, "model": header.settings.get("model_text", ""),
              "original_bytes": len(data), "container_bytes": len(blob), "sha256": header.sha256,
              "checks": "length, CRC-32 of header and payload, SHA-256 of the output: all match"}
    emit(pack_document("unpack", record), fmt, as_json, None, True)

"""A py-spy flame graph (SVG) of the gunicorn workers while one scenario runs, and its top frames.

py-spy samples the running processes from outside (no change to the app, no cProfile overhead);
it needs ptrace rights (root, or CAP_SYS_PTRACE). The SVG is interactive in a browser; the
report lists the frames that hold the most samples.
"""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.harness import BIN, ROOT

TITLE = re.compile(r"<title>(.*?) \(([\d,]+) samples?, ([\d.]+)%\)</title>")


class Recording:
    """`py-spy record` of a process and its children for `seconds`, as a flame graph SVG."""

    def __init__(self, pid: int, seconds: int, svg: Path, log=print, rate: int = 200):
        self.command = [
            str(BIN / "py-spy"),
            "record",
            *("--pid", str(pid), "--subprocesses", "--nonblocking"),
            *("--duration", str(seconds), "--rate", str(rate)),
            *("--format", "flamegraph", "--output", str(svg)),
        ]
        self.svg = svg
        self.log = log
        self.process = None

    def __enter__(self):
        if not (BIN / "py-spy").exists():
            self.log("py-spy is not installed (pip install -e '.[bench]'): no flame graph")
            return self
        self.process = subprocess.Popen(  # noqa: S603 - our venv's py-spy
            self.command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return self

    def __exit__(self, *exc):
        if self.process is None:
            return
        try:
            _, err = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        if self.process.returncode != 0 or not self.svg.exists():
            self.log(f"py-spy failed ({self.process.returncode}): {err.decode()[-400:]}")
        else:
            self.log(f"flame graph: {self.svg.relative_to(ROOT)}")


@dataclass(frozen=True)
class Frame:
    name: str
    samples: int
    percent: float


def top_frames(svg: Path, limit: int = 12, under: tuple[str, ...] = ("complaints/",)) -> list:
    """The frames of our own code holding the most samples (inclusive), one line per function."""
    if not svg.exists():
        return []
    best: dict[str, Frame] = {}
    for title, samples, percent in TITLE.findall(svg.read_text(errors="replace")):
        name = html.unescape(title)
        if not any(part in name for part in under):
            continue
        name = re.sub(r":\d+\)$", ")", name)  # one entry per function, not per line
        count = int(samples.replace(",", ""))
        if name not in best or best[name].samples < count:
            best[name] = Frame(name, count, float(percent))
    return sorted(best.values(), key=lambda f: -f.samples)[:limit]

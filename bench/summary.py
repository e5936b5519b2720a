"""What `make bench` prints at the end, and the flame graph's part of bench/RESULTS.md."""

from pathlib import Path

from bench import flamegraph
from bench.harness import ROOT
from bench.report import CEILING, ORDER, P99_MS, RATIO_TARGET


def ratio_table(results: dict) -> str:
    """Each scenario's throughput as a ratio of its ceiling measured in the same run."""
    rows = [
        f"{'scenario':<18} {'req/s':>8} {'p99 ms':>8} {'ratio':>8} {'target':>8}  met",
        "-" * 62,
    ]
    for name in ORDER:
        result = results[name]
        if name in CEILING:
            ratio = result.rps / results[CEILING[name]].rps
            target = RATIO_TARGET[name]
            met = "yes" if ratio >= target and result.p99_ms < P99_MS else "NO"
            rows.append(
                f"{name:<18} {result.rps:>8.0f} {result.p99_ms:>8.1f} {ratio:>8.2f}"
                f" {'>= ' + format(target, '.2f'):>8}  {met}"
            )
        else:
            rows.append(f"{name:<18} {result.rps:>8.0f} {result.p99_ms:>8.1f} {'ceiling':>8}")
    return "\n".join(rows)


def flame_section(svg: Path) -> list[str]:
    frames = flamegraph.top_frames(svg)
    if not frames:
        return ["## Flame graph: submission", "", "Not recorded (py-spy missing or failed)."]
    lines = [
        "## Flame graph: submission",
        "",
        f"`{svg.relative_to(ROOT)}`: py-spy sampling every gunicorn worker during a submission "
        "run of its own after the measured one (sampling costs CPU; open the SVG in a "
        "browser). The frames of our code holding the most samples (inclusive: a frame's "
        "callees count toward it):",
        "",
        "| frame | samples | share of all samples |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{f.name}` | {f.samples:,} | {f.percent:.1f}% |" for f in frames]
    return lines

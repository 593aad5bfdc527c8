"""``make bench``: print PADIT's speed and size figures, measured now on this machine."""

from __future__ import annotations

import argparse
import os
import platform
import sys

from padit_stream.bench.detectors import bench_detector_changelog, bench_detectors
from padit_stream.bench.history import bench_history
from padit_stream.bench.window import bench_changelog, bench_window


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m padit_stream.bench", description=__doc__)
    parser.add_argument("--broker", default=os.environ.get("PADIT_BROKER", "127.0.0.1:9092"))
    parser.add_argument("--no-e2e", action="store_true", help="skip the broker measurements")
    parser.add_argument("--rss-keys", type=int, default=100_000, help="series for (c)")
    parser.add_argument("--metrics", type=int, default=400_000, help="metrics for (d), (e)")
    parser.add_argument("--keys", type=int, default=1_000, help="series for (d), (e)")
    parser.add_argument("--repeats", type=int, default=3, help="throughput repeats for (d)")
    args = parser.parse_args(argv)

    _out(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
         f"Python {platform.python_version()}")  # fmt: skip
    _out()
    _out("(a) window: µs per metric (medians of 7 interleaved repeats), features on every metric")
    head = ("window", "update", "extract", "recomp upd", "recomp ext", "ratio")
    _out("".join(f"{h:>{w}}" for h, w in zip(head, (8, 9, 9, 12, 12, 8), strict=True)))
    for size in (100, 300, 1_000, 10_000):
        f = bench_window(size)
        _out(f"{size:>8} {f.update:>8.2f} {f.extract:>8.2f} {f.recompute_update:>11.2f} "
             f"{f.recompute_extract:>11.1f} {f.ratio:>6.1f}x")  # fmt: skip
    _out()
    _out("(b) changelog bytes per metric (steady state; 1 or 10 metrics per series per batch)")
    _out(f"{'window':>8} {'PADIT 1':>8} {'PADIT 10':>9} {'JSON value':>11}")
    for size in (100, 1_000, 10_000):
        one, json_value = bench_changelog(size, batch=1)
        ten, _ = bench_changelog(size, batch=10)
        _out(f"{size:>8} {one:>8.1f} {ten:>9.1f} {json_value:>11.0f}")
    _out()
    _out("history for the API (per-minute min/mean/max and max score, 24 h kept): stored bytes")
    _out("per series once full, changelog bytes per metric and per evaluation (one a minute)")
    _out(f"{'every':>8} {'per series':>11} {'per metric':>11} {'per eval':>9} {'µs/metric':>10}")
    for interval in (1.0, 10.0, 60.0):
        h = bench_history(interval)
        _out(f"{h.interval:>7.0f}s {h.bytes_per_series:>11,d} {h.changelog_per_metric:>11.1f} "
             f"{h.changelog_per_evaluation:>9.1f} {h.us_per_metric:>10.2f}")  # fmt: skip
    _out()
    _out("detectors: µs per metric (median; the stream calls explain_one + learn_one) and")
    _out("the bytes of its state once trained (one snapshot, written every 64 evaluations)")
    for name, us, size in bench_detectors():
        _out(f"  {name:<34} {us:8.2f} {size:>9,d}")
    persisted, whole = bench_detector_changelog()
    _out(
        f"detector changelog bytes per evaluation (default composite): {persisted:,.0f} "
        f"(snapshot every 64 + inputs), {whole:,} if rewritten whole"
    )
    _out()
    if args.no_e2e:
        return 0
    from padit_stream.bench.e2e import bench_e2e

    broker = args.broker.removeprefix("kafka://")
    _out(f"end to end through the broker at {broker} (one worker) ...")
    e = bench_e2e(
        broker,
        rss_keys=args.rss_keys,
        keys=args.keys,
        metrics=args.metrics,
        repeats=args.repeats,
    )
    _out(f"(c) peak RSS of the worker holding {e.rss_keys:,} series: {e.peak_rss_mib:,.0f} MiB")
    _out(
        f"(d) throughput, {e.metrics:,} metrics over {e.keys:,} series, shipped config "
        f"(features every 60 s of event time, default detector), medians of "
        f"{len(e.padit_rates)} runs; the bare loop decodes each metric and produces a "
        f"features-sized output:"
    )
    _out(
        f"    PADIT {e.padit_rate:,.0f}/s, bare aiokafka loop {e.bare_rate:,.0f}/s: "
        f"PADIT at {100 * e.ratio:.0f}% of the bare loop"
    )
    runs = zip(e.padit_rates, e.bare_rates, strict=True)
    pairs = ", ".join(f"{p:,.0f}/{b:,.0f}" for p, b in runs)
    _out(f"    runs (PADIT/bare): {pairs}")
    _out(
        f"    features on every metric (each metric also through the default detector and "
        f"alerting): {e.every_rate:,.0f}/s to the last features record, "
        f"{e.every_anomaly_rate:,.0f}/s to the last anomaly record"
    )
    _out(
        f"(e) latency metric -> features at {e.latency_rate:,.0f}/s: "
        f"p50 {e.latency_p50_ms:.1f} ms, p99 {e.latency_p99_ms:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The targets every ``qbank bench`` run is checked against, and the summary
it prints."""

from __future__ import annotations

from typing import Any

import typer

# The targets, checked against every run.
TARGET_FLOOR_RATIO = 1.3
TARGET_HTTP = {"concurrency": 8, "p50_ms": 15.0, "p99_ms": 50.0, "rps": 100.0}
TARGET_SCALE_P50_MS = 30.0
TARGET_PEER_SPEEDUP = 3.0
TARGET_INGEST_CHUNKS_PER_S = 150.0
TARGET_READY_S = 2.0
TARGET_RSS_MIB = 300.0
TARGET_FRESH = {"concurrency": 8, "rps": 300.0, "p50_ms": 25.0, "p99_ms": 60.0}


def _target(name: str, met: bool | None, figure: str) -> dict[str, Any]:
    return {"target": name, "met": met, "figure": figure}


def check_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    if inp := report.get("inprocess"):
        r = inp["ratios"]["hybrid_uncached_p50_over_floor_p50"]
        out.append(_target(f"in-process hybrid p50 <= {TARGET_FLOOR_RATIO}x floor", r <= TARGET_FLOOR_RATIO, f"{r}x"))
    for http in report.get("http", []):
        runs = [
            x
            for x in http["runs"]
            if x["endpoint"] == "/api/search"
            and x["regime"] == "cached"
            and x["concurrency"] == TARGET_HTTP["concurrency"]
        ]
        for x in runs:
            lat = x["latency_ms"]
            met = (
                lat["p50"] <= TARGET_HTTP["p50_ms"]
                and lat["p99"] <= TARGET_HTTP["p99_ms"]
                and x["rps"] >= TARGET_HTTP["rps"]
                and x["failed"] == 0
            )
            figure = f"p50 {lat['p50']} ms, p99 {lat['p99']} ms, {x['rps']} req/s, {x['failed']} failed"
            out.append(
                _target(
                    f"HTTP /api/search c=8 ({http['workers']} worker(s)): p50<=15, p99<=50, >=100 rps, 0 errors",
                    met,
                    figure,
                )
            )
    if sc := report.get("scale"):
        kind = sc["build"]["auto_kind"]
        s = sc["search"][kind]
        full, cached = s["uncached_embedding_ms"]["hybrid"]["p50"], s["cached_embedding_ms"]["hybrid"]["p50"]
        n = sc["target_chunks"]
        out.append(
            _target(
                f"{n} chunks ({kind}): hybrid p50 <= 30 ms, embedding included",
                full <= TARGET_SCALE_P50_MS,
                f"{full} ms",
            )
        )
        out.append(
            _target(
                f"{n} chunks ({kind}): hybrid p50 <= 30 ms, embedding cached",
                cached <= TARGET_SCALE_P50_MS,
                f"{cached} ms",
            )
        )
    if (peer := report.get("peer")) and "speedup_p50_uncached" in peer:
        ours, theirs = peer["accuracy"]["qbank"], peer["accuracy"]["haystack"]
        as_good = ours["hit@1"] >= theirs["hit@1"] and ours["mrr@10"] >= theirs["mrr@10"]
        for label, key in (("embedding uncached", "speedup_p50_uncached"), ("embedding cached", "speedup_p50_cached")):
            x = peer[key]
            out.append(
                _target(
                    f">= 3x faster than Haystack at equal or better accuracy ({label})",
                    x >= TARGET_PEER_SPEEDUP and as_good,
                    f"{x}x; hit@1 {ours['hit@1']} vs {theirs['hit@1']}, MRR@10 {ours['mrr@10']} vs {theirs['mrr@10']}",
                )
            )
    if enc := report.get("encoders"):
        for name, rate in enc["ingest"]["chunks_per_s"].items():
            if name != "torch":
                out.append(
                    _target(
                        f"ingest with {name}, batched: >= {TARGET_INGEST_CHUNKS_PER_S:.0f} chunks/s",
                        rate >= TARGET_INGEST_CHUNKS_PER_S,
                        f"{rate} chunks/s ({enc['ingest']['chunks']} chunks)",
                    )
                )
    if ag := report.get("against"):
        new = ag["medians"]["new"]
        ready = new["ready_s"]
        out.append(_target("qbank serve: start to ready <= 2 s", ready <= TARGET_READY_S, f"{ready} s"))
        out.append(
            _target(
                "qbank serve: <= 300 MiB per worker after load",
                new["rss_mib_after_load"] <= TARGET_RSS_MIB,
                f"{new['rss_mib_after_load']} MiB",
            )
        )
        if ag["concurrency"] == TARGET_FRESH["concurrency"]:
            met = (
                new["rps"] >= TARGET_FRESH["rps"]
                and new["p50_ms"] <= TARGET_FRESH["p50_ms"]
                and new["p99_ms"] <= TARGET_FRESH["p99_ms"]
                and new.get("errors", 0) == 0
            )
            out.append(
                _target(
                    "fresh /api/search c=8, 1 worker: >= 300 req/s, p50 <= 25 ms, p99 <= 60 ms, 0 errors",
                    met,
                    f"{new['rps']} req/s, p50 {new['p50_ms']} ms, p99 {new['p99_ms']} ms, "
                    f"{new.get('errors', 0)} errors",
                )
            )
    return out


def print_summary(report: dict[str, Any]) -> None:
    m = report["machine"]
    typer.echo(
        f"machine: {m['nproc']} CPU ({m['cpu_model']}), {m['ram_gib']} GiB, "
        f"load {m['loadavg_start']} -> {m['loadavg_end']}"
    )
    for name, f in report.get("ingest", {}).items():
        typer.echo(
            f"ingest {name}: {f['chunks']} chunks, parse {f['parse_chunk_s']}s, embed {f['embed_s']}s, "
            f"index {f['index_build_s']}s, save {f['save_s']}s, {f['index_bytes'] / 1e6:.1f} MB"
        )
    if inp := report.get("inprocess"):
        fl = inp["floor_ms"]
        typer.echo(
            f"floor p50: embed {fl['embed']['p50']:.2f} + faiss {fl['faiss']['p50']:.3f} "
            f"+ bm25 {fl['bm25']['p50']:.3f} ms"
        )
        for mode, s in inp["search_uncached_ms"].items():
            c = inp["search_cached_ms"][mode]
            typer.echo(
                f"  {mode:>6}: uncached p50/p99 {s['p50']:.2f}/{s['p99']:.2f} ms, "
                f"cached {c['p50']:.3f}/{c['p99']:.3f} ms"
            )
    for http in report.get("http", []):
        typer.echo(
            f"HTTP ({http['workers']} worker(s), ready in {http['startup_to_ready_s']}s, "
            f"RSS {http['rss_mib_after_load']} MiB):"
        )
        for x in http["runs"]:
            lat = x["latency_ms"]
            typer.echo(
                f"  {x['endpoint']:<12} {x['regime']:<8} c={x['concurrency']:<3} {x['rps']:>7.1f} req/s  "
                f"p50 {lat['p50']:>7.2f}  p99 {lat['p99']:>7.2f} ms  failed {x['failed']}"
            )
    if (peer := report.get("peer")) and "accuracy" in peer:
        typer.echo(
            f"Haystack p50 {peer['haystack_hybrid_ms']['p50']:.2f} ms "
            f"(retrieval alone {peer['haystack_retrieval_only_ms']['p50']:.2f}) vs qbank "
            f"{peer['qbank_hybrid_uncached_ms']['p50']:.2f} (cached {peer['qbank_hybrid_cached_ms']['p50']:.3f}); "
            f"accuracy {peer['accuracy']}"
        )
    if sc := report.get("scale"):
        for kind, s in sc["search"].items():
            typer.echo(
                f"scale {sc['target_chunks']} {kind}: p50 hybrid/bm25/dense cached "
                + "/".join(f"{s['cached_embedding_ms'][m]['p50']:.2f}" for m in ("hybrid", "bm25", "dense"))
                + f" ms, hybrid uncached {s['uncached_embedding_ms']['hybrid']['p50']:.2f} ms"
            )
    if enc := report.get("encoders"):
        inp, ing = enc["inprocess"], enc["ingest"]
        for name, st in inp["encode_ms"].items():
            typer.echo(
                f"encoder {name:<9}: query p50/p99 {st['p50']:.2f}/{st['p99']:.2f} ms, "
                f"ingest {ing['chunks_per_s'][name]} chunks/s"
                + (f", cosine to torch min {inp['cosine_to_torch'][name]['min']}" if name != "torch" else "")
            )
        for name, srv in enc["serving"].items():
            runs = ", ".join(
                f"c={x['concurrency']} {x['rps']:.1f} req/s p50 {x['latency_ms']['p50']:.1f} ms"
                for x in srv["uncached_search"]
            )
            ready, rss = srv["startup_to_ready_s"], srv["rss_mib_after_load"]
            typer.echo(f"  serve {name:<9}: ready {ready} s, {rss} MiB; {runs}")
    if bat := report.get("batching"):
        for where, unit in (("inprocess", "qps"), ("http", "rps")):
            for key, row in bat[where].items():
                if key.startswith("concurrency_"):
                    typer.echo(
                        f"batching {where} {key.replace('concurrency_', 'c=')}: off {row['off'][unit]} vs on "
                        f"{row['on'][unit]} {unit} (x{row[f'{unit}_ratio_on_over_off']}, "
                        f"paired rounds x{row['paired_ratio_median']})"
                    )
    if ag := report.get("against"):
        typer.echo(
            f"against {ag['old']['rev']} ({ag['old']['commit'][:7]}), medians of {ag['rounds']} alternating starts "
            f"each, /api/search c={ag['concurrency']}:"
        )
        labels = (
            ("ready_s", "start to ready, s"),
            ("rss_mib_ready", "memory when ready, MiB"),
            ("rss_mib_after_load", "memory after the load, MiB"),
            ("rps", "fresh: req/s"),
            ("p50_ms", "fresh: p50, ms"),
            ("p99_ms", "fresh: p99, ms"),
            ("cached_rps", "cached: req/s"),
            ("cached_p50_ms", "cached: p50, ms"),
            ("cached_p99_ms", "cached: p99, ms"),
        )
        for key, label in labels:
            if key not in ag["medians"]["new"]:  # a report written before the key was measured
                continue
            old, new, r = ag["medians"]["old"][key], ag["medians"]["new"][key], ag["new_over_old"][key]
            typer.echo(f"  {label:<28} {old:>9} -> {new:>9}  (x{r})")
        typer.echo(
            f"  {'failed requests':<28} {ag['medians']['old']['errors']:>9} -> {ag['medians']['new']['errors']:>9}"
        )
    for t in report["targets"]:
        mark = "MET   " if t["met"] else "MISSED"
        typer.echo(f"{mark} {t['target']}: {t['figure']}")

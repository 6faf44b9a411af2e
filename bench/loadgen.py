"""Two load generators for a ``qbank serve`` on loopback (``bench.server``).

``run_wrk`` drives it with Debian's ``wrk`` (a C load generator, so the
client steals little CPU from the server on a 2-core machine); ``run_load``
is a bounded asyncio + httpx client, run in its own process as
``python -m bench.loadgen`` where wrk is missing.

Both generators are closed-loop: ``concurrency`` connections, each sending
its next request when the previous answer arrives.  Every run is bounded in
requests and seconds, and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.stats import LatencyStats, run_module
from service.limits import CLIENT_KEEPALIVE_S

# -- requests and results -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestSpec:
    method: str
    path: str
    body: str | None = None  # JSON text


@dataclass(frozen=True, slots=True)
class LoadResult:
    tool: str
    concurrency: int
    requests: int
    seconds: float
    latency_ms: dict[str, float]
    statuses: dict[str, int] = field(default_factory=dict)
    connection_errors: int = 0
    other_errors: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        """Requests without a 2xx answer (4xx, 5xx, connection errors, timeouts)."""
        return sum(n for s, n in self.statuses.items() if not s.startswith("2")) + self.connection_errors

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s.startswith("5"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "latency_ms": self.latency_ms,
            "statuses": self.statuses,
            "connection_errors": self.connection_errors,
            "other_errors": self.other_errors,
            "failed": self.failed,
        }


# -- wrk ------------------------------------------------------------------------------

_WRK_LUA = r"""
local reqs, n = {}, 0
init = function(args)
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%u+)\t([^\t]*)\t?(.*)$")
    if body == "" then body = nil end
    table.insert(reqs, {method, path, body})
  end
end
request = function()
  n = n + 1
  local r = reqs[(n - 1) % #reqs + 1]
  if r[3] then
    return wrk.format(r[1], r[2], {["Content-Type"] = "application/json"}, r[3])
  end
  return wrk.format(r[1], r[2])
end
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%.1f,"p90":%.1f,"p95":%.1f,"p99":%.1f,"max":%.1f,"mean":%.1f}\n',
    s.requests, s.duration, e.connect, e.read, e.write, e.status, e.timeout,
    lat:percentile(50), lat:percentile(90), lat:percentile(95), lat:percentile(99), lat.max, lat.mean))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _write_requests(specs: Sequence[RequestSpec], path: Path) -> None:
    lines = []
    for s in specs:
        if "\t" in s.path or "\n" in s.path or (s.body and ("\n" in s.body or "\t" in s.body)):
            raise ValueError(f"request cannot hold tabs or newlines: {s}")
        lines.append(f"{s.method}\t{s.path}\t{s.body or ''}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_wrk(base_url: str, specs: Sequence[RequestSpec], concurrency: int, seconds: float) -> LoadResult:
    """``wrk -t1 -c<concurrency>`` for ``seconds`` cycling through ``specs``."""
    with tempfile.TemporaryDirectory(prefix="qbank-wrk-") as tmp:
        script, reqs = Path(tmp) / "bench.lua", Path(tmp) / "requests.tsv"
        script.write_text(_WRK_LUA, encoding="utf-8")
        _write_requests(specs, reqs)
        cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
        out = subprocess.run(
            [*cmd, "-s", str(script), base_url, "--", str(reqs)],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON "))
    d = json.loads(line.removeprefix("WRKJSON "))
    socket_errors = d["connect"] + d["read"] + d["write"] + d["timeout"]
    return LoadResult(
        tool="wrk",
        concurrency=concurrency,
        requests=d["requests"],
        seconds=d["duration_us"] / 1e6,
        latency_ms={k: round(d[k] / 1000, 3) for k in ("p50", "p90", "p95", "p99", "max", "mean")},
        # wrk counts answers with a status >= 400 but does not say which.
        statuses={"2xx": d["requests"] - d["status"], "4xx/5xx": d["status"]},
        connection_errors=socket_errors,
    )


# -- a bounded asyncio + httpx client ------------------------------------------------------


async def run_load(
    base_url: str,
    specs: Sequence[RequestSpec],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    timeout_s: float = 30.0,
) -> LoadResult:
    """Send up to ``max_requests`` (cycling through ``specs``) with ``concurrency``
    requests in flight, for at most ``max_seconds``."""
    if concurrency <= 0 or max_requests <= 0 or not specs:
        raise ValueError("need a positive concurrency, a positive request budget and at least one request")
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    sent = 0
    started = time.perf_counter()
    deadline = started + max_seconds
    # Idle connections expire before the server closes them (service/limits.py): reusing one
    # the server is closing gets a reset, not an answer.
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=CLIENT_KEEPALIVE_S
    )
    headers = {"Content-Type": "application/json"}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < max_requests and time.perf_counter() < deadline:
            spec = specs[sent % len(specs)]
            sent += 1
            t0 = time.perf_counter()
            try:
                response = await client.request(spec.method, spec.path, content=spec.body, headers=headers)
                await response.aread()
                statuses[str(response.status_code)] += 1
            except httpx.TransportError as exc:
                errors[type(exc).__name__] += 1
            latencies.append((time.perf_counter() - t0) * 1000)

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout_s) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    stats = LatencyStats.of(latencies).to_dict() if latencies else {}
    return LoadResult(
        tool="httpx",
        concurrency=concurrency,
        requests=len(latencies),
        seconds=elapsed,
        latency_ms={k: float(v) for k, v in stats.items() if k != "n"},
        statuses=dict(statuses),
        connection_errors=sum(errors.values()),
        other_errors=dict(errors),
    )


def load_in_subprocess(base_url: str, specs: Sequence[RequestSpec], concurrency: int, seconds: float) -> LoadResult:
    """``run_load`` in a second process (the fallback when wrk is not installed)."""
    with tempfile.TemporaryDirectory(prefix="qbank-load-") as tmp:
        reqs = Path(tmp) / "requests.tsv"
        _write_requests(specs, reqs)
        d = run_module("bench.loadgen", base_url, str(reqs), str(concurrency), str(seconds), timeout_s=seconds + 120)
    return LoadResult(
        tool=d["tool"],
        concurrency=d["concurrency"],
        requests=d["requests"],
        seconds=d["seconds"],
        latency_ms=d["latency_ms"],
        statuses=d["statuses"],
        connection_errors=d["connection_errors"],
        other_errors=d["other_errors"],
    )


def _main() -> None:
    parser = argparse.ArgumentParser(description="Bounded closed-loop HTTP load (loopback only).")
    parser.add_argument("base_url")
    parser.add_argument("requests", type=Path, help="TSV lines: METHOD, path, JSON body (optional)")
    parser.add_argument("concurrency", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    args = parser.parse_args()
    if not args.base_url.startswith(("http://127.0.0.1", "http://localhost")):
        parser.error("loopback targets only")
    specs = []
    for line in args.requests.read_text(encoding="utf-8").splitlines():
        method, path, body = (line.split("\t") + [""])[:3]
        specs.append(RequestSpec(method, path, body or None))
    result = asyncio.run(run_load(args.base_url, specs, args.concurrency, args.max_requests, args.seconds))
    print(json.dumps(result.to_dict()))


if __name__ == "__main__":
    _main()

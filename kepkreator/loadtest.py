"""A bounded load on a running app, from clients that behave like visitors' browsers.

    python -m kepkreator.loadtest http://127.0.0.1:7860/ --clients 50 --requests 20 [--server-pid PID]

Each client is one browser tab: one kept-open HTTP connection and one session, speaking Gradio's queue protocol
as the page does (POST queue/join, the server-sent event stream up to process_completed, then the image itself
downloaded). The clients take turns through the three tabs' drawings. All clients share one asyncio loop in this
process, so the load costs little CPU here; the report gives that cost beside the server's (with --server-pid), to
show which side a figure measures. Traffic goes only to the URL given; every loop is bounded in count and time.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import time
import uuid
from pathlib import Path

import httpx

from kepkreator.validation import HelpWithDefaults, positive_int

ENDPOINTS = ("handwrite", "style_digit", "face")


def request_data(endpoint: str, choices: dict, n: int) -> list:
    """One drawing of `endpoint`; `n` varies it as different visitors would (a number, a digit, a blend)."""
    if endpoint == "handwrite":
        return [str(2000 + n % 1000), n, 0.15, 0.5, "#141e5a", "#ffffff", False, 0, 3, 24, ""]
    if endpoint == "style_digit":
        return [str(n % 10), choices["writer"], choices["writer"], 0.0, 1.0, 0.0, 0.0, "identity"]
    return [choices["identity"], choices["identity"], (n % 21) / 20, choices["condition"], "identity"]


def endpoints_of(config: dict) -> tuple[dict, dict]:
    """({endpoint: (fn_index, trigger_id)}, a valid writer, identity and condition from the page's own choices)."""
    found = {d["api_name"]: (d["id"], d["targets"][0][0]) for d in config["dependencies"] if d.get("api_name") in
             ENDPOINTS}
    missing = sorted(set(ENDPOINTS) - set(found))
    if missing:
        raise RuntimeError(f"the app at this URL has no {', '.join(missing)} endpoint: is it KepKreator?")
    components = {c["id"]: c.get("props", {}) for c in config["components"]}

    def first_choice(endpoint: str, position: int) -> str:
        inputs = next(d["inputs"] for d in config["dependencies"] if d.get("api_name") == endpoint)
        return components[inputs[position]]["choices"][0][1]
    choices = {"writer": first_choice("style_digit", 1), "identity": first_choice("face", 0),
               "condition": first_choice("face", 3)}
    return found, choices


class BrowserTab:
    """One visitor: one connection kept open, one session hash (a new one, or a returning visitor's), requests one
    after another."""

    def __init__(self, url: str, endpoints: dict, timeout: float, session: str | None = None):
        self.client = httpx.AsyncClient(base_url=url, timeout=timeout, limits=httpx.Limits(max_connections=1))
        self.session = session or uuid.uuid4().hex[:11]
        self.endpoints = endpoints

    async def draw(self, endpoint: str, data: list) -> None:
        fn_index, trigger = self.endpoints[endpoint]
        joined = await self.client.post("gradio_api/queue/join", json={
            "data": data, "event_data": None, "fn_index": fn_index, "trigger_id": trigger,
            "session_hash": self.session})
        joined.raise_for_status()
        event_id, output = joined.json()["event_id"], None
        async with self.client.stream("GET", "gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    output = message
                elif message.get("msg") == "close_stream":
                    break
        if output is None or not output.get("success"):
            raise RuntimeError(f"no drawing: {json.dumps(output)[:200] if output else 'the stream ended'}")
        image = await self.client.get(output["output"]["data"][0]["url"])
        image.raise_for_status()

    async def close(self) -> None:
        await self.client.aclose()


def process_tree(pid: int) -> list[int]:
    """`pid` and the processes it started, and theirs (Linux /proc): a server and its render workers."""
    children = []
    for thread in Path(f"/proc/{pid}/task").glob("*"):  # a process started by any of its threads
        try:
            children += (thread / "children").read_text().split()
        except OSError:  # ended meanwhile
            continue
    return [pid, *(p for child in children for p in process_tree(int(child)))]


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time so far of a process and the processes it started (Linux /proc), or None without a
    pid. A worker that ended is not counted, so a server's workers must live through a measurement."""
    if pid is None:
        return None
    total = 0.0
    for process in process_tree(pid):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def run_clients(url: str, clients: int, requests: int, timeout: float, request_timeout: float,
                      sessions: list[str | None] | None = None) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=request_timeout) as probe:
        endpoints, choices = endpoints_of((await probe.get("config")).json())
    deadline = time.monotonic() + timeout
    latencies: list[float] = []
    errors: list[str] = []

    async def visitor(index: int) -> None:
        tab = BrowserTab(url, endpoints, request_timeout, sessions[index] if sessions else None)
        try:
            for r in range(requests):
                if time.monotonic() > deadline:
                    errors.append("time limit reached")
                    return
                endpoint = ENDPOINTS[(index + r) % len(ENDPOINTS)]
                start = time.perf_counter()
                try:
                    await tab.draw(endpoint, request_data(endpoint, choices, index * requests + r))
                    latencies.append(time.perf_counter() - start)
                except (httpx.HTTPError, RuntimeError, ValueError, KeyError) as err:  # counted, reported
                    errors.append(f"{endpoint}: {type(err).__name__}: {str(err)[:200]}")
        finally:
            await tab.close()

    started = time.perf_counter()
    await asyncio.gather(*(visitor(i) for i in range(clients)))
    return {"wall": time.perf_counter() - started, "latencies": sorted(latencies), "errors": errors}


def run_load(url: str, clients: int, requests: int, timeout: float = 600, request_timeout: float = 120,
             server_pid: int | None = None, sessions: list[str | None] | None = None) -> dict:
    """Figures of one load: p50/p95 latency, requests/s, errors, and the CPU both sides spent per request.
    `sessions`: one session hash per client (None: a new visitor), for returning visitors."""
    client_before, server_before = resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(server_pid)
    result = asyncio.run(run_clients(url, clients, requests, timeout, request_timeout, sessions))
    client_after, server_after = resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(server_pid)
    latencies, ok = result["latencies"], len(result["latencies"])
    client_cpu = (client_after.ru_utime + client_after.ru_stime) - (client_before.ru_utime + client_before.ru_stime)
    return {"clients": clients, "requests": clients * requests, "ok": ok, "errors": len(result["errors"]),
            "first_errors": result["errors"][:5],
            "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
            "p95_ms": 1000 * latencies[int(0.95 * (ok - 1))] if latencies else None,
            "requests_per_second": ok / result["wall"],
            "client_cpu_ms_per_request": 1000 * client_cpu / max(ok, 1),
            "server_cpu_ms_per_request": 1000 * (server_after - server_before) / max(ok, 1)
            if server_pid is not None else None}


def resident_mib(pid: int) -> float:
    """A process's resident memory, and what the processes it started hold of their own: forked workers share the
    server's pages until they write to them, and those shared pages are counted once."""
    own, *started = process_tree(pid)
    kib = int(Path(f"/proc/{own}/status").read_text().split("VmRSS:")[1].split()[0])
    for process in started:
        try:
            rollup = Path(f"/proc/{process}/smaps_rollup").read_text()
        except OSError:
            continue
        kib += sum(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Private_"))
    return kib / 1024


def files_under(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0


def soak(url: str, total: int, server_pid: int, files: Path | None = None, clients: int = 20,
         rounds: int = 10) -> dict:
    """`total` requests in `rounds` equal rounds of `clients` browser tabs, half of them new visitors and half
    returning ones (sessions seen in an earlier round). After each round: its p50 latency and server CPU per
    request, requests/s and the cores the server kept busy, its resident memory, and the files under `files` (the
    app's image folders)."""
    per_client = max(1, total // (rounds * clients))
    seen: list[str] = []
    history = []
    for index in range(rounds):
        returning = random.Random(index).sample(seen, min(len(seen), clients // 2))
        new = [uuid.uuid4().hex[:11] for _ in range(clients - len(returning))]
        seen += new
        result = run_load(url, clients, per_client, server_pid=server_pid, sessions=[*returning, *new])
        history.append({"round": index + 1, "requests": result["ok"], "errors": result["errors"],
                        "first_errors": result["first_errors"], "p50_ms": result["p50_ms"],
                        "p95_ms": result["p95_ms"], "requests_per_second": result["requests_per_second"],
                        "server_cpu_ms_per_request": result["server_cpu_ms_per_request"],
                        # Cores the server kept busy: a round slower at the same CPU per request with fewer busy
                        # cores waited on something other than its own work (the machine, the load generator).
                        "server_cores_busy": result["server_cpu_ms_per_request"] * result["requests_per_second"]
                        / 1000,
                        "resident_mib": resident_mib(server_pid),
                        "files": files_under(files) if files else None})
    return {"requests": sum(h["requests"] for h in history), "errors": sum(h["errors"] for h in history),
            "rounds": history}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kepkreator.loadtest", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults)
    parser.add_argument("url", help="the app's address, e.g. http://127.0.0.1:7860/ (loopback only)")
    parser.add_argument("--clients", type=positive_int, default=50, help="browser-like clients at once")
    parser.add_argument("--requests", type=positive_int, default=20, help="requests per client")
    parser.add_argument("--server-pid", type=positive_int, default=None,
                        help="the app's process id, to report its CPU per request (Linux)")
    parser.add_argument("--soak", type=positive_int, default=None, metavar="REQUESTS",
                        help="instead: this many requests in 10 rounds of new and returning visitors, reporting the "
                             "server's latency, CPU, memory and files after each (needs --server-pid)")
    parser.add_argument("--files", type=Path, default=None, help="with --soak: the folder whose files to count")
    args = parser.parse_args(argv)
    if args.server_pid is not None and not Path(f"/proc/{args.server_pid}/stat").exists():
        parser.error(f"--server-pid {args.server_pid}: no such process here")
    if args.soak and args.server_pid is None:
        parser.error("--soak measures the server: give --server-pid")
    try:
        if args.soak:
            print(json.dumps(soak(args.url, args.soak, args.server_pid, args.files, args.clients), indent=2))
        else:
            print(json.dumps(run_load(args.url, args.clients, args.requests, server_pid=args.server_pid), indent=2))
    except (httpx.HTTPError, RuntimeError) as err:
        print(f"error: cannot load {args.url}: {type(err).__name__}: {str(err)[:200]}")
        raise SystemExit(2)


if __name__ == "__main__":
    main()

"""A bounded load on a running app: N concurrent gradio_client clients, each sending R requests across the tabs.

    python -m kepkreator.loadtest http://127.0.0.1:7860/ --clients 50 --requests 20

Traffic goes only to the URL given (use a loopback address); every loop is bounded in count and time.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from gradio_client import Client

from kepkreator.validation import positive_int

# One request per tab; `n` varies the request as different visitors would (a digit, a seed, a blend).
REQUESTS = {
    "/handwrite": lambda api, n: [str(2000 + n), n, 0.15, 0.5, "#141e5a", "#ffffff", False, 0, 3],
    "/style_digit": lambda api, n: [str(n % 10), api["writer"], api["writer"], 0.0, 1.0, 0.0, 0.0, "identity"],
    "/face": lambda api, n: [api["identity"], api["identity"], (n % 21) / 20, api["condition"], "identity"],
}


def defaults(client: Client) -> dict:
    """A valid writer, identity and condition, taken from the endpoints' documented choices."""
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    pick = lambda endpoint, index: info[endpoint]["parameters"][index]["parameter_default"]
    return {"writer": pick("/style_digit", 1), "identity": pick("/face", 0), "condition": pick("/face", 3)}


def run_load(url: str, clients: int, requests: int, timeout: float = 600, request_timeout: float = 120) -> dict:
    api = defaults(Client(url, verbose=False))
    endpoints = list(REQUESTS)
    deadline = time.monotonic() + timeout

    def one_client(index: int) -> tuple[list[float], list[str]]:
        client = Client(url, verbose=False)
        latencies, errors = [], []
        for r in range(requests):
            if time.monotonic() > deadline:
                errors.append("time limit reached")
                break
            endpoint = endpoints[(index + r) % len(endpoints)]
            start = time.perf_counter()
            try:
                request = REQUESTS[endpoint](api, index * requests + r)
                client.submit(*request, api_name=endpoint).result(timeout=request_timeout)
                latencies.append(time.perf_counter() - start)
            except Exception as err:  # counted and reported: a load test must finish to say what failed
                errors.append(f"{endpoint}: {type(err).__name__}: {err}")
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(one_client, range(clients)))
    wall = time.perf_counter() - started
    latencies = sorted(seconds for lat, _ in results for seconds in lat)
    errors = [e for _, errs in results for e in errs]
    return {"clients": clients, "requests": clients * requests, "ok": len(latencies), "errors": len(errors),
            "first_errors": errors[:5], "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
            "requests_per_second": len(latencies) / wall}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kepkreator.loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--clients", type=positive_int, default=50)
    parser.add_argument("--requests", type=positive_int, default=20)
    args = parser.parse_args(argv)
    print(json.dumps(run_load(args.url, args.clients, args.requests), indent=2))


if __name__ == "__main__":
    main()

"""Load through the local gateway over loopback (a real HTTP server, infra/local/gateway.py):
many requests at once, mixing venues, people and tills. No answer is a 5xx and no answer
holds a row of another venue than the one its request named. Latency percentiles are
printed and recorded, never asserted: speed is the benchmarks' business."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from auth.config import Issuer
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.gateway import LocalGateway, serve
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from tests.campaign.record import full_size, record
from tests.support.dev_stack import free_port
from tests.support.load import Call, Outcome, percentiles, traffic
from tests.support.stack import close_runtime, make_runtime, trusted_keys

#: Requests in flight at once, and how many each of them sends in turn.
PARALLEL = 200
ROUNDS = 10 if full_size() else 1


def send(port: int, call: Call) -> Outcome:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        started = time.perf_counter()
        connection.request(
            call.method, call.path, headers={"authorization": f"Bearer {call.token}"}
        )
        answer = connection.getresponse()
        data = answer.read()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    body = json.loads(data) if data else None
    return Outcome(call, answer.status, body, elapsed)


def test_two_hundred_parallel_requests_through_the_gateway_show_no_other_venue_and_no_5xx(
    api: ApiClient, database: postgres.Database, signing_key: SigningKey, issuer: Issuer
) -> None:
    """Given the local gateway serving over loopback, and people of three venues (and two
    tills) each asking for their own venues' and others' orders, staff and profiles, when
    200 requests are in flight at once, then none is answered with a 5xx, the refused ones
    are 403 problem+json, and no answer holds an order, member of staff or venue of a
    venue other than the one its request named."""
    keys = trusted_keys(signing_key, issuer)
    runtime = make_runtime(database, keys, pool_size=16, issuer=issuer)
    gateway = LocalGateway(runtime, keys=keys, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE)
    port = free_port()
    server = serve(gateway, "127.0.0.1", port)
    mix = traffic(api, database.admin_url, PARALLEL * ROUNDS)
    start = threading.Barrier(PARALLEL)

    def worker(index: int) -> list[Outcome]:
        start.wait()
        return [send(port, mix.calls[r * PARALLEL + index]) for r in range(ROUNDS)]

    try:
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            outcomes = [o for batch in pool.map(worker, range(PARALLEL)) for o in batch]
    finally:
        server.shutdown()
        server.server_close()
        close_runtime(runtime)

    statuses = Counter(o.status for o in outcomes)
    server_errors = [o for o in outcomes if o.status >= 500]
    foreign = [row for o in outcomes for row in mix.foreign_rows(o)]
    refused_codes = Counter(o.body["code"] for o in outcomes if o.status == 403)
    timing = percentiles([o.seconds for o in outcomes])
    by_family = {
        family: percentiles([o.seconds for o in outcomes if o.call.family == family])
        for family in sorted({o.call.family for o in outcomes})
    }
    print(f"\nload: {len(outcomes)} requests, {PARALLEL} in parallel, statuses {dict(statuses)}")
    print(f"load: latency ms {timing}")
    for family, figures in by_family.items():
        print(f"load:   {family}: {figures}")
    record(
        "load-gateway",
        cases=len(outcomes),
        outcome=f"{len(server_errors)} answers 5xx, {len(foreign)} rows of another venue",
        details=[
            f"{PARALLEL} requests in flight at once through the gateway over loopback",
            f"statuses: {dict(sorted(statuses.items()))}; refusals: {dict(refused_codes)}",
            f"latency ms (printed, not asserted): {timing}",
        ]
        + [f"{family}: {figures}" for family, figures in by_family.items()],
    )

    assert server_errors == []
    assert foreign == []
    assert set(statuses) <= {200, 403}, statuses
    assert statuses[200] > 0, statuses
    assert statuses[403] > 0, statuses
    assert set(refused_codes) <= {"venue-access-denied", "permission-denied"}, refused_codes

#!/usr/bin/env python3
"""tests/bench/flood.py: the 50,000-event flood, for make bench (tests/bench/bench.sh).

POSTs FLOOD order.placed events for one seller, in signed batches of 100 (the largest POST /events
takes), and one event for each of the OTHERS sellers OTHER_PREFIX1..OTHER_PREFIX<OTHERS>, each
its own request, spread evenly through the flood (so they arrive while it is being ingested
and sent). Requests go in that order over CONNECTIONS keep-alive connections; prints
"requests events seconds non2xx". What happened to the events is read from the database.

usage: flood.py HOST PORT SECRET FLOOD_TENANT FLOOD OTHER_PREFIX OTHERS CONNECTIONS
"""
import asyncio
import base64
import collections
import hashlib
import hmac
import json
import os
import sys
import time


async def read_answer(reader):
    """One HTTP/1.1 answer read off reader (its body skipped): its status line."""
    status = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


BATCH = 100


def order(eid, tenant, oid):
    return {"id": eid, "type": "order.placed", "tenant": tenant,
            "occurred_at": "2026-12-02T14:05:00Z",
            "data": {"order_id": str(oid), "total": {"amount": 1250000, "currency": "NGN"},
                     "items": 3, "customer": {"name": "Ada", "phone": "+2349012345678"}}}


def request(host, key, run, i, body):
    body = json.dumps(body).encode()
    now = str(int(time.time()))
    wid = f"msg_{run}_{i}"
    mac = hmac.new(key, f"{wid}.{now}.".encode() + body, hashlib.sha256).digest()
    return (f"POST /events HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nwebhook-id: {wid}\r\nwebhook-timestamp: {now}\r\n"
            f"webhook-signature: v1,{base64.b64encode(mac).decode()}\r\n\r\n").encode() + body


def build(host, secret, flood_tenant, flood, prefix, others):
    """The bodies in sending order: flood batches with the others' single events spread among them."""
    run = os.urandom(4).hex()
    batches = [{"events": [order(f"fl-{run}-{k}", flood_tenant, k)
                           for k in range(b, min(b + BATCH, flood))]}
               for b in range(0, flood, BATCH)]
    bodies = list(batches)
    for j in range(others):
        at = (j + 1) * len(batches) // (others + 1) + j
        bodies.insert(at, order(f"ot-{run}-{j + 1}", f"{prefix}{j + 1}", 90000 + j))
    return bodies, run


async def worker(host, port, queue, key, run, counter, bad):
    reader, writer = await asyncio.open_connection(host, port)
    while queue:
        i, body = queue.popleft()
        # Signed when sent: the timestamp stays within the 5-minute window however long the run.
        writer.write(request(host, key, run, i, body))
        status = await read_answer(reader)
        counter.append(1)
        if not status.split(b" ")[1].startswith(b"2"):
            bad.append(status)
    writer.close()


async def main():
    host, port, secret, flood_tenant = sys.argv[1:5]
    flood = int(sys.argv[5])
    prefix = sys.argv[6]
    others, conns = int(sys.argv[7]), int(sys.argv[8])
    key = base64.b64decode(secret[len("whsec_"):])
    bodies, run = build(host, secret, flood_tenant, flood, prefix, others)
    queue = collections.deque(enumerate(bodies))
    counter, bad = [], []
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(host, int(port), queue, key, run, counter, bad)
                           for _ in range(conns)))
    print(f"{len(counter)} {flood + others} {time.perf_counter() - t0:.2f} {len(bad)}")


asyncio.run(main())

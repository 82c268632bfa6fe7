#!/usr/bin/env python3
"""tests/bench/events_load.py: POST /events load, for make bench (tests/bench/bench.sh).

ab sends the same request every time, and a Standard Webhooks request must not: each needs its
own webhook-id (or it is a replay, answered from the record) and its own signature. This
client builds N requests up front, each with a fresh webhook-id and event ids, signed with the
secret, then sends them over C keep-alive connections (asyncio, one thread) and prints
"requests/s p50_ms p99_ms non2xx". The same client against another path (the do-nothing
program) gives the figure to compare with.

usage: events_load.py HOST PORT PATH SECRET TENANT REQUESTS CONNECTIONS EVENTS_PER_REQUEST
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import sys
import time


def build(path, secret, tenant, n, per, host):
    key = base64.b64decode(secret[len("whsec_"):])
    run = os.urandom(4).hex()
    now = str(int(time.time()))
    reqs = []
    for i in range(n):
        events = [{"id": f"b-{run}-{i}-{k}", "type": "order.placed", "tenant": tenant,
                   "occurred_at": "2026-12-02T14:05:00Z",
                   "data": {"order_id": f"{i}-{k}", "total": {"amount": 1250000, "currency": "NGN"},
                            "items": 3, "customer": {"name": "Ada", "phone": "+2349012345678"}}}
                  for k in range(per)]
        body = json.dumps(events[0] if per == 1 else {"events": events}).encode()
        wid = f"msg_{run}_{i}"
        mac = hmac.new(key, f"{wid}.{now}.".encode() + body, hashlib.sha256).digest()
        sig = "v1," + base64.b64encode(mac).decode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nwebhook-id: {wid}\r\nwebhook-timestamp: {now}\r\n"
                f"webhook-signature: {sig}\r\n\r\n")
        reqs.append(head.encode() + body)
    return reqs


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


async def worker(host, port, queue, lat, bad):
    reader, writer = await asyncio.open_connection(host, port)
    while True:
        try:
            req = queue.pop()
        except IndexError:
            break
        t0 = time.perf_counter()
        writer.write(req)
        status = await read_answer(reader)
        lat.append(time.perf_counter() - t0)
        if not status.split(b" ")[1].startswith(b"2"):
            bad.append(status)
    writer.close()


async def main():
    host, port, path, secret, tenant = sys.argv[1:6]
    n, conns, per = (int(x) for x in sys.argv[6:9])
    queue = build(path, secret, tenant, n, per, host)
    queue.reverse()
    lat, bad = [], []
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(host, int(port), queue, lat, bad) for _ in range(conns)))
    wall = time.perf_counter() - t0
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    print(f"{len(lat) / wall:.0f} {pct(0.50):.1f} {pct(0.99):.1f} {len(bad)}")


if __name__ == "__main__":
    asyncio.run(main())

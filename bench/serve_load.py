#!/usr/bin/env python3
"""A bounded load test of `dagrad serve` on loopback: for each number of concurrent clients (each a
thread with its own keep-alive connection), sends REQUESTS requests in total and reports requests
per second and the p50 / p99 latency. The server is started by this script on a free port.
Usage: serve_load.py DAGRAD MODEL.dagrad BODY.json [--route /retrieve] [--clients 1,4,16]
                     [--requests 2000] [--server-threads 2] [-- extra serve flags]"""
import argparse
import http.client
import json
import subprocess
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("dagrad")
p.add_argument("model")
p.add_argument("body")
p.add_argument("--route", default="/retrieve")
p.add_argument("--clients", default="1,4,16")
p.add_argument("--requests", type=int, default=2000)
p.add_argument("--server-threads", default="2")
p.add_argument("extra", nargs="*")
a = p.parse_args()
body = open(a.body).read()
server = subprocess.Popen([a.dagrad, "serve", a.model, "--port", "0", "--threads", a.server_threads, *a.extra],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
print(f"route {a.route}, {a.requests} requests per row, server threads {a.server_threads} {' '.join(a.extra)}")
print("| clients | requests/s | p50 ms | p99 ms | errors |")
print("|---:|---:|---:|---:|---:|")
try:
    for clients in [int(c) for c in a.clients.split(",")]:
        per = a.requests // clients
        lat, errors, lock = [], [0], threading.Lock()

        def client():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine = []
            for _ in range(per):
                t0 = time.perf_counter()
                c.request("POST", a.route, body=body, headers={"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                mine.append(time.perf_counter() - t0)
                if r.status != 200:
                    with lock:
                        errors[0] += 1
            c.close()
            with lock:
                lat.extend(mine)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        lat.sort()
        print(f"| {clients} | {len(lat) / wall:.0f} | {lat[len(lat) // 2] * 1e3:.2f} | "
              f"{lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3:.2f} | {errors[0]} |", flush=True)
finally:
    server.terminate()
    server.wait()

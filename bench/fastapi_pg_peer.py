"""The FastAPI peer of bench/routes_pg.sh: the PostgreSQL service people write by hand today.

FastAPI + uvicorn with 2 worker processes (one per core), psycopg2 (Debian's python3-psycopg2),
doing the same work as the bench service on PostgreSQL: insert {id, prompt} storing result =
upper(prompt) in SQL and returning the row; update by id (404 when missing); delete by id
({"num_rows": N}); GET lookup by id (404 when missing). Request and response bodies are pydantic
models, as FastAPI users write them. Each worker keeps a psycopg2 ThreadedConnectionPool of 10
open connections (as pxt's and the ceiling's pools) used by plain `def` handlers, which FastAPI
runs in its thread pool so a worker overlaps its database round trips; autocommit (one
transaction per statement, as the other servers); no access log.

Two traps of psycopg2.pool made earlier figures meaningless (with uvicorn's, below main(): 155-388
req/s where 2,500 is right): putconn closes
every connection beyond `minconn`, so with minconn=1 most requests opened a new PostgreSQL backend
(a fork each); and getconn raises PoolError instead of waiting when all `maxconn` are out, which
FastAPI's 40 handler threads per worker reach at 64 client connections. Here minconn = maxconn,
and a semaphore makes a handler wait for a free connection as pxt's and the ceiling's pools do.

Usage: /usr/bin/python3 bench/fastapi_pg_peer.py --dsn CONNINFO [--host 127.0.0.1] --port N
"""

import argparse
import os
import signal
import socket
import threading
from typing import Optional

import fastapi
import psycopg2.pool
import pydantic
import uvicorn


class InsertIn(pydantic.BaseModel):
    id: int
    prompt: Optional[str] = None


class UpdateIn(pydantic.BaseModel):
    id: int
    prompt: Optional[str] = None


class DeleteIn(pydantic.BaseModel):
    id: int


class Row(pydantic.BaseModel):
    id: int
    prompt: Optional[str]
    result: Optional[str]


class DeleteOut(pydantic.BaseModel):
    num_rows: int


app = fastapi.FastAPI(title="fastapi postgres peer")
POOL_SIZE = 10
_pool = None  # one per worker process, made in the worker before it serves (serve_worker)
_free = threading.BoundedSemaphore(POOL_SIZE)


def open_pool(dsn: str) -> psycopg2.pool.ThreadedConnectionPool:
    p = psycopg2.pool.ThreadedConnectionPool(POOL_SIZE, POOL_SIZE, dsn)
    conns = [p.getconn() for _ in range(POOL_SIZE)]
    for conn in conns:  # autocommit once per connection, not per request
        conn.autocommit = True
        p.putconn(conn)
    return p


def run(sql, args, fetch=True):
    with _free:  # wait for a connection instead of PoolError
        conn = _pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchone() if fetch else cur.rowcount
        finally:
            _pool.putconn(conn)


@app.post("/insert", response_model=Row)
def insert(body: InsertIn) -> Row:
    r = run("INSERT INTO items(id, prompt, result) VALUES (%s, %s, upper(%s)) RETURNING id, prompt, result",
            (body.id, body.prompt, body.prompt))
    return Row(id=r[0], prompt=r[1], result=r[2])


@app.post("/update", response_model=Row)
def update(body: UpdateIn) -> Row:
    r = run("UPDATE items SET prompt = %s, result = upper(%s) WHERE id = %s RETURNING id, prompt, result",
            (body.prompt, body.prompt, body.id))
    if r is None:
        raise fastapi.HTTPException(status_code=404, detail=f"no row with id {body.id}")
    return Row(id=r[0], prompt=r[1], result=r[2])


@app.post("/delete", response_model=DeleteOut)
def delete(body: DeleteIn) -> DeleteOut:
    return DeleteOut(num_rows=run("DELETE FROM items WHERE id = %s", (body.id,), fetch=False))


@app.get("/lookup", response_model=Row)
def lookup(id: int) -> Row:
    r = run("SELECT id, prompt, result FROM items WHERE id = %s", (id,))
    if r is None:
        raise fastapi.HTTPException(status_code=404, detail=f"no row with id {id}")
    return Row(id=r[0], prompt=r[1], result=r[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    conn = psycopg2.connect(args.dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS items(id bigint PRIMARY KEY, prompt text, result text)")
    conn.close()
    # One uvicorn per worker on its own SO_REUSEPORT socket rather than uvicorn's `workers=`: in
    # Debian's uvicorn (0.17) that mode answered every keep-alive request ~44 ms late (wrk -c1: 22.6
    # req/s against 1,384 with one worker): its socket is made with proto 0, and asyncio sets
    # TCP_NODELAY on accepted connections only when the listener's proto is IPPROTO_TCP, so Nagle
    # held each answer's second write for the client's delayed ACK. Hence IPPROTO_TCP here.
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            serve_worker(args)
            os._exit(0)
        children.append(pid)

    def stop(*_):
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    for c in children:
        os.waitpid(c, 0)  # retried after the signal handler (PEP 475)


def serve_worker(args) -> None:
    global _pool
    _pool = open_pool(args.dsn)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((args.host, args.port))
    uvicorn.Server(uvicorn.Config(app, access_log=False, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main()

"""The FastAPI peer for bench/routes.sh: the service people write by hand today.

FastAPI + uvicorn (Debian's python3-fastapi 0.92 and python3-uvicorn, pydantic 1) on SQLite,
doing the same work as the bench service: insert {id, prompt} storing result = upper(prompt)
and returning the row; update by id (404 when missing); delete by id ({"num_rows": N}); GET
lookup by id (404 when missing). Request and response bodies are pydantic models, as FastAPI
users write them.

Given its best shot on this stack: async handlers on one SQLite connection (no thread-pool hop
per request), WAL with synchronous=NORMAL (pxt's default durability), no access log.

Usage: /usr/bin/python3 bench/fastapi_peer.py --db FILE [--host 127.0.0.1] --port N
"""

import argparse
import sqlite3
from typing import Optional

import fastapi
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


def open_db(path: str) -> sqlite3.Connection:
    # isolation_level=None: autocommit, one transaction per statement, like the other servers.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute("CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, prompt TEXT, result TEXT)")
    return db


def make_app(db: sqlite3.Connection) -> fastapi.FastAPI:
    app = fastapi.FastAPI(title="fastapi peer")

    def row(r) -> Row:
        return Row(id=r[0], prompt=r[1], result=r[2])

    @app.post("/insert", response_model=Row)
    async def insert(body: InsertIn) -> Row:
        result = body.prompt.upper() if body.prompt is not None else None
        db.execute("INSERT INTO items(id, prompt, result) VALUES (?, ?, ?)", (body.id, body.prompt, result))
        return Row(id=body.id, prompt=body.prompt, result=result)

    @app.post("/update", response_model=Row)
    async def update(body: UpdateIn) -> Row:
        result = body.prompt.upper() if body.prompt is not None else None
        cur = db.execute("UPDATE items SET prompt = ?, result = ? WHERE id = ?", (body.prompt, result, body.id))
        if cur.rowcount == 0:
            raise fastapi.HTTPException(status_code=404, detail=f"no row with id {body.id}")
        return Row(id=body.id, prompt=body.prompt, result=result)

    @app.post("/delete", response_model=DeleteOut)
    async def delete(body: DeleteIn) -> DeleteOut:
        cur = db.execute("DELETE FROM items WHERE id = ?", (body.id,))
        return DeleteOut(num_rows=cur.rowcount)

    @app.get("/lookup", response_model=Row)
    async def lookup(id: int) -> Row:
        r = db.execute("SELECT id, prompt, result FROM items WHERE id = ?", (id,)).fetchone()
        if r is None:
            raise fastapi.HTTPException(status_code=404, detail=f"no row with id {id}")
        return row(r)

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    app = make_app(open_db(args.db))
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()

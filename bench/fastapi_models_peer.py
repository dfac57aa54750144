"""The FastAPI + httpx peer for bench/models.sh: an insert route whose row needs a chat answer, as
people write it by hand: POST /generate {id, prompt} calls an OpenAI-compatible server's
/v1/chat/completions with httpx.AsyncClient, stores (id, prompt, result) in SQLite and returns the
row. Debian's python3-fastapi 0.92 (pydantic 1), python3-uvicorn and python3-httpx 0.23.

Given its best shot: one shared AsyncClient with a keep-alive pool as large as the concurrency
(64), async handlers (no thread-pool hop), SQLite in WAL with synchronous=NORMAL, no access log.

Usage: /usr/bin/python3 bench/fastapi_models_peer.py --db FILE --port N --models URL [--concurrency 64]
"""

import argparse
import sqlite3
from typing import Optional

import fastapi
import httpx
import pydantic
import uvicorn


class GenerateIn(pydantic.BaseModel):
    id: int
    prompt: str


class Row(pydantic.BaseModel):
    id: int
    prompt: str
    result: Optional[str]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--models", required=True, help="base URL, e.g. http://127.0.0.1:9000/v1")
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()

    db = sqlite3.connect(args.db, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS gen(id INTEGER PRIMARY KEY, prompt TEXT, result TEXT)")
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    client = httpx.AsyncClient(base_url=args.models, limits=limits, timeout=120)
    app = fastapi.FastAPI(title="fastapi + httpx peer")

    @app.post("/generate", response_model=Row)
    async def generate(body: GenerateIn):
        r = await client.post("/chat/completions", json={
            "model": "chat-model", "messages": [{"role": "user", "content": body.prompt}]})
        if r.status_code != 200:
            raise fastapi.HTTPException(status_code=502, detail="provider error %d" % r.status_code)
        result = r.json()["choices"][0]["message"]["content"]
        db.execute("INSERT INTO gen(id, prompt, result) VALUES (?, ?, ?)", (body.id, body.prompt, result))
        return Row(id=body.id, prompt=body.prompt, result=result)

    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()

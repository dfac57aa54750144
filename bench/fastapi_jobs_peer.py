"""The FastAPI peer for bench/jobs.sh: background jobs the way Pixeltable's serving layer runs them.

POST /insert {id, prompt} validates the body, submits the insert (result = upper(prompt)) to a
16-thread pool and answers {"id", "job_url"}; GET /jobs/{id} answers {"status", "result",
"error"}. As in the reference, jobs live in a dict in memory: nothing survives a restart, and
nothing is ever removed. pxt stores every job in SQLite before answering, so it does strictly
more work per job.

Usage: /usr/bin/python3 bench/fastapi_jobs_peer.py --db FILE [--host 127.0.0.1] --port N
"""

import argparse
import concurrent.futures
import sqlite3
import threading
import uuid
from typing import Any, Optional

import fastapi
import pydantic
import uvicorn


class InsertIn(pydantic.BaseModel):
    id: int
    prompt: Optional[str] = None


class JobHandle(pydantic.BaseModel):
    id: str
    job_url: str


class JobStatus(pydantic.BaseModel):
    status: str
    result: Optional[Any] = None
    error: Optional[str] = None


def make_app(path: str) -> fastapi.FastAPI:
    app = fastapi.FastAPI(title="fastapi jobs peer")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)
    jobs: dict = {}
    local = threading.local()

    def conn() -> sqlite3.Connection:
        if not hasattr(local, "db"):
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            local.db = db
        return local.db

    conn().execute("CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, prompt TEXT, result TEXT)")

    def run(job_id: str, body: InsertIn) -> None:
        try:
            result = body.prompt.upper() if body.prompt is not None else None
            conn().execute("INSERT INTO items(id, prompt, result) VALUES (?, ?, ?)", (body.id, body.prompt, result))
            jobs[job_id] = JobStatus(status="done", result={"id": body.id, "prompt": body.prompt, "result": result})
        except Exception as e:  # noqa: BLE001 - the job's error is its message
            jobs[job_id] = JobStatus(status="error", error=str(e))

    @app.post("/insert", response_model=JobHandle)
    async def insert(body: InsertIn, request: fastapi.Request) -> JobHandle:
        job_id = uuid.uuid4().hex
        jobs[job_id] = JobStatus(status="pending")
        pool.submit(run, job_id, body)
        return JobHandle(id=job_id, job_url=str(request.url_for("job_status", job_id=job_id)))

    @app.get("/jobs/{job_id}", response_model=JobStatus)
    async def job_status(job_id: str) -> JobStatus:
        job = jobs.get(job_id)
        if job is None:
            raise fastapi.HTTPException(status_code=404, detail="unknown job id")
        return job

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    uvicorn.run(make_app(args.db), host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()

"""The FastAPI peer for bench/media.sh: an upload-and-thumbnail service written by hand.

FastAPI + uvicorn (Debian's python3-fastapi, python3-uvicorn, python3-multipart) with Pillow
(python3-pil) on SQLite, doing the same work as the pxt route: POST /upload takes a multipart
`photo` file, stores it under media/, decodes it with Pillow (a file that does not decode is a
422), stores a 256-pixel JPEG thumbnail as a second file, inserts the row and answers
{"photo": "/media/...", "thumb": "/media/..."}.

Given its best shot: a sync handler, so FastAPI runs it in its thread pool and Pillow's decode
and resize (which release the GIL) use both cores; Pillow's thumbnail() decodes JPEGs in draft
mode (shrink-on-load), like libvips; one SQLite connection in WAL mode behind a lock.

Usage: /usr/bin/python3 bench/fastapi_media_peer.py --home DIR [--host 127.0.0.1] --port N
"""

import argparse
import os
import shutil
import sqlite3
import threading
import uuid

import fastapi
import uvicorn
from PIL import Image


def make_app(home: str) -> fastapi.FastAPI:
    media = os.path.join(home, "media")
    os.makedirs(media, exist_ok=True)
    db = sqlite3.connect(os.path.join(home, "peer.db"), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS photos (id INTEGER PRIMARY KEY, photo TEXT, thumb TEXT)")
    lock = threading.Lock()
    app = fastapi.FastAPI()

    def new_name(ext: str) -> str:
        h = uuid.uuid4().hex
        os.makedirs(os.path.join(media, h[:2]), exist_ok=True)
        return f"{h[:2]}/{h}{ext}"

    @app.post("/upload")
    def upload(photo: fastapi.UploadFile = fastapi.File(...)) -> dict:
        rel = new_name(".jpg")
        path = os.path.join(media, rel)
        with open(path, "wb") as out:
            shutil.copyfileobj(photo.file, out, 256 * 1024)
        thumb_rel = new_name(".jpg")
        try:
            with Image.open(path) as im:
                im.thumbnail((256, 256))
                im.save(os.path.join(media, thumb_rel), "JPEG")
        except Exception as e:  # not an image: nothing is kept
            os.remove(path)
            raise fastapi.HTTPException(status_code=422, detail=f"photo: not an image ({e})")
        with lock:
            db.execute("INSERT INTO photos (photo, thumb) VALUES (?, ?)", (rel, thumb_rel))
        return {"photo": "/media/" + rel, "thumb": "/media/" + thumb_rel}

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    uvicorn.run(make_app(args.home), host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()

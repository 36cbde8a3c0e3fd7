"""The peer of the API benchmark: the same server stack answering with bytes held in memory.

A sync FastAPI route on uvicorn, as the API's routes are, returning a JSON body the size of a
home's 90 days by hour (two rooms, about 244 kB), with no database and no work: what this
machine's HTTP stack and load generator can do at a rate, beside what the API does.
"""

from __future__ import annotations

from fastapi import FastAPI, Response

SIZE = 244_000
BODY = b"[" + b",".join(b"%.2f" % (i % 997 / 7) for i in range(SIZE // 6)) + b"]"

app = FastAPI()


@app.get("/peer")
def peer() -> Response:
    return Response(BODY, media_type="application/json")

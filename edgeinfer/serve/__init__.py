"""`edgeinfer serve`: the run's pipeline behind an HTTP API and a live page.

Starlette and uvicorn (the `serve` extra) are imported by `app.py` only, which
only the serve command loads; `run` never imports this package. The pieces:
`hub` (the latest result and every stream client's bounded queue), `frames`
(the newest frame as JPEG for /video.mjpg), `sink` (what the pipeline writes
into), `live` (the pipeline on its own thread), `predict` (POST /api/predict's
models), `uploads` (a posted body to a frame, with limits), `metrics`
(Prometheus text), `auth` (the bind and token rules), `app` (the routes).
"""

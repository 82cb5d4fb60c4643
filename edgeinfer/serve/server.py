"""uvicorn's server for the app, on a socket opened beforehand, ending the open
streams as soon as it is asked to stop: a live page left open would otherwise
hold the shutdown until uvicorn's grace period cancels it mid-response."""
from __future__ import annotations

import uvicorn

GRACE_SECONDS = 2.0   # for requests in hand (a prediction) once streams are ended


class Server(uvicorn.Server):
    def __init__(self, app, parts):
        super().__init__(uvicorn.Config(app, log_level="warning", access_log=False,
                                        timeout_graceful_shutdown=GRACE_SECONDS))
        self.parts = parts

    async def shutdown(self, sockets=None):
        self.parts.close()
        await super().shutdown(sockets=sockets)

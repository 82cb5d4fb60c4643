"""uvicorn's server for the app, on a socket opened beforehand, stopping
promptly: asked to stop, it ends the open streams at once (a live page left
open would otherwise hold the shutdown), gives requests in hand GRACE_SECONDS,
then cuts the connections of clients that stopped reading (a stream dropped
for falling behind whose client never read its end), which would otherwise
wait for uvicorn to cancel them mid-response."""
from __future__ import annotations

import asyncio

import uvicorn

GRACE_SECONDS = 2.0


class Server(uvicorn.Server):
    def __init__(self, app, parts):
        super().__init__(uvicorn.Config(app, log_level="warning", access_log=False,
                                        timeout_graceful_shutdown=GRACE_SECONDS + 1))
        self.parts = parts

    async def shutdown(self, sockets=None):
        self.parts.close()
        asyncio.get_running_loop().call_later(GRACE_SECONDS, self._cut_hung_connections)
        await super().shutdown(sockets=sockets)

    def _cut_hung_connections(self):
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()

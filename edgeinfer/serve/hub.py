"""The latest result, and every GET /api/stream client's bounded queue.

The pipeline thread publishes; the server's event loop hands each record to
each client. A client whose queue is full (it reads slower than results come)
is dropped and counted there and then: publishing never waits for a client,
so a slow or hung one cannot stall the pipeline or grow memory."""
from __future__ import annotations

import asyncio

CLIENT_QUEUE = 64   # records a stream client may fall behind before it is dropped


class StreamClient:
    def __init__(self, size):
        self.queue = asyncio.Queue(size)
        self.dropped = False

    async def next(self, timeout):
        """The next record's JSON text; None once the client is dropped or the hub
        closed; "" when none came within timeout seconds."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            return ""


class ResultsHub:
    def __init__(self, client_queue=CLIENT_QUEUE):
        self.client_queue = int(client_queue)
        self.latest = None       # the newest record's JSON text
        self.clients = set()
        self.dropped_clients = 0
        self._loop = None

    def attach(self, loop):
        """The event loop the stream clients wait on (the server's, at start-up)."""
        self._loop = loop

    def publish(self, record):
        """A record's JSON text, from any thread; returns at once."""
        self.latest = record
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._deliver, record)
            except RuntimeError:   # the loop closed in between: the server has stopped
                pass

    def _deliver(self, record):
        for client in list(self.clients):
            try:
                client.queue.put_nowait(record)
            except asyncio.QueueFull:
                self._drop(client)
                self.dropped_clients += 1

    def subscribe(self):
        """A new stream client (on the event loop)."""
        client = StreamClient(self.client_queue)
        self.clients.add(client)
        return client

    def unsubscribe(self, client):
        self.clients.discard(client)

    def _drop(self, client):
        """Ends a client's stream: what it had queued is let go, and its next read
        says it is over."""
        self.clients.discard(client)
        client.dropped = True
        while not client.queue.empty():
            client.queue.get_nowait()
        client.queue.put_nowait(None)

    def close(self):
        """Ends every stream (on the event loop), so the server can stop."""
        for client in list(self.clients):
            self._drop(client)

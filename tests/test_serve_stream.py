"""GET /api/stream while a real pipeline plays a video at 100 frames a second:
a client that keeps up gets every result in order; a client that stops
reading is dropped and counted once its queue is full, and the pipeline never
waits for it."""
import json
import socket
import threading

import httpx

from edgeinfer.serve.hub import CLIENT_QUEUE
from edgeinfer.sources import open_video
from serve_server import parts_for, serving, wait_for
from tools import sample_clip, tiny_models

FRAMES, FPS = 400, 100.0


def test_a_slow_stream_client_is_dropped_and_the_run_goes_on(tmp_path):
    # 100 labels, top 50: records of ~3 kB, so a client that reads nothing fills its
    # socket's buffers (kept small here, as on a congested link) within a few dozen
    labels = [f"class {i:03d}" for i in range(100)]
    model = tiny_models.save(tiny_models.random_classifier(labels, size=(16, 16)),
                             tmp_path / "many.onnx")
    clip = str(tmp_path / "clip.mp4")
    sample_clip.write_clip(clip, (96, 72), FRAMES // 2, fps=FPS)
    # paced as a camera: the queue's 64 results are 0.64 s of slack for the client that
    # keeps up, on a machine busy with other work too
    parts = parts_for([model], open_video(clip, realtime=True), top_k=50)
    start_live, parts.live.start = parts.live.start, lambda: None   # once both clients are on
    frames, first_event, done = [], threading.Event(), threading.Event()

    def fast_client(url):
        with httpx.stream("GET", url + "/api/stream", timeout=30) as response:
            for line in response.iter_lines():   # a stats event comes every second
                first_event.set()
                if line.startswith("data: {\"frame\""):
                    frames.append(json.loads(line[len("data: "):])["frame"])
                if done.is_set():
                    return

    with serving(parts, send_buffer=8192) as url:
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        slow.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reader = threading.Thread(target=fast_client, args=(url,))
        reader.start()
        assert first_event.wait(10)
        wait_for(lambda: len(parts.hub.clients) == 2, what="both clients")
        start_live()
        wait_for(lambda: not parts.live.running, seconds=30, what="the clip to end")
        status = parts.live.status()
        wait_for(lambda: len(frames) >= status["classified"], what="every result")
        done.set()
        reader.join(10)
        metrics = httpx.get(url + "/metrics").text.splitlines()
        # the dropped client's stream has ended: what was in its buffers, then the end
        slow.settimeout(10)
        received = b""
        while not received.endswith(b"0\r\n\r\n"):   # the chunked response's proper end
            chunk = slow.recv(65536)
            assert chunk, "the connection closed before the stream's end"
            received += chunk
        slow.close()
    # every result the run made reached the client that kept up, in order (a live
    # source's frames replaced before they were taken have no result)
    assert status["state"] == "finished" and status["classified"] > 2 * CLIENT_QUEUE
    assert len(frames) == status["classified"] and frames == sorted(set(frames))
    assert parts.hub.dropped_clients == 1
    assert "edgeinfer_stream_clients_dropped_total 1" in metrics
    got = received.count(b"data: {\"frame\"")
    assert 0 < got < status["classified"] - CLIENT_QUEUE

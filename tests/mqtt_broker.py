"""A real Mosquitto broker for the tests, and a subscriber that keeps what it
hears. The broker listens on a free loopback port with a config written to a
temporary folder; persistence is on, so a stop and a start keep the
subscriber's session, its queued messages and the retained ones, as on a real
server. Tests that need it skip, naming why, where Mosquitto is not installed
(CI installs it: .ci/run)."""
import getpass
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def need_mosquitto():
    if not os.access(MOSQUITTO, os.X_OK):
        pytest.skip("needs the Mosquitto broker (Debian: apt-get install mosquitto)")
    pytest.importorskip("paho.mqtt.client", reason="needs paho-mqtt (edgeinfer[mqtt])")


def make_certificates(folder):
    """A CA and a broker certificate it signed for 127.0.0.1 (openssl), as PEM files."""
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    files = {name: os.path.join(folder, f"{name}.pem") for name in ("ca", "ca_key", "cert", "key")}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        ["req", "-x509", *ec, "-keyout", files["ca_key"], "-out", files["ca"], "-days", "2",
         "-subj", "/CN=edgeinfer test CA"],
        ["req", *ec, "-keyout", files["key"], "-out", files["cert"] + ".csr",
         "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", files["cert"] + ".csr", "-CA", files["ca"], "-CAkey",
         files["ca_key"], "-CAcreateserial", "-out", files["cert"], "-days", "2", "-extfile",
         os.path.join(folder, "san.cnf")]]
    with open(os.path.join(folder, "san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for step in steps:
        subprocess.run(["openssl", *step], check=True, capture_output=True)
    return files


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Broker:
    def __init__(self, folder, users=None, tls=None):
        """users: {name: password} for a broker that refuses anonymous clients;
        tls: the make_certificates() files, for a TLS listener."""
        self.folder = str(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.port = free_port()
        self.process = None
        lines = [f"listener {self.port} 127.0.0.1", "persistence true",
                 f"persistence_location {self.folder}/", f"log_dest file {self.folder}/log",
                 f"user {getpass.getuser()}",  # as root it would switch to a user who cannot
                 "max_queued_messages 0"]      # read this folder; queue all for the subscriber
        if users:
            passwords = os.path.join(self.folder, "passwords")
            for number, (user, password) in enumerate(users.items()):
                subprocess.run([MOSQUITTO_PASSWD, "-b"] + ([] if number else ["-c"]) +
                               [passwords, user, password], check=True, capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            lines += [f"cafile {tls['ca']}", f"certfile {tls['cert']}", f"keyfile {tls['key']}"]
        self.config = os.path.join(self.folder, "mosquitto.conf")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    @property
    def url(self):
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen([MOSQUITTO, "-c", self.config],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto did not start: {self.process.stderr.read()!r}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within 10 s")

    def stop(self):
        """A clean stop (SIGTERM): Mosquitto saves its sessions and retained messages."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process.stderr.close()


class Subscriber:
    """A persistent session (QoS 1, clean_session off) on TOPIC and TOPIC/status:
    what the broker queues while it is away is delivered when it is back."""

    def __init__(self, broker, topic, client_id="edgeinfer-test-subscriber", auth=None):
        import paho.mqtt.client as mqtt

        self.topic = topic
        self.records, self.statuses = [], []
        self.subscribed = threading.Event()
        self.lock = threading.RLock()  # wait_for holds it while a condition calls frames()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False, protocol=mqtt.MQTTv311)
        if auth:
            self.client.username_pw_set(*auth)
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.wait(10), "the subscription was not acknowledged"

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        client.subscribe([(self.topic, 1), (self.topic + "/status", 1)])

    def _on_message(self, client, userdata, message):
        with self.lock:
            if message.topic == self.topic:
                self.records.append(json.loads(message.payload))
            else:
                self.statuses.append((message.payload.decode(), bool(message.retain)))

    def frames(self):
        with self.lock:
            return [record["frame"] for record in self.records]

    def wait_for(self, condition, seconds, what):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if condition(self):
                    return
            time.sleep(0.02)
        raise AssertionError(f"{what}: not within {seconds} s; frames {self.frames()}, "
                             f"statuses {self.statuses}")

    def close(self):
        self.client.disconnect()   # first, so the loop thread wakes and ends at once
        self.client.loop_stop()


def retained_status(broker, topic):
    """What a newcomer to TOPIC/status is told first: the retained status."""
    import paho.mqtt.client as mqtt

    heard = []
    got = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.on_connect = lambda c, *args: c.subscribe(topic + "/status", 1)
    client.on_message = lambda c, u, message: (heard.append(message.payload.decode()),
                                               got.set())
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        got.wait(5)
    finally:
        client.disconnect()
        client.loop_stop()
    return heard[0] if heard else None

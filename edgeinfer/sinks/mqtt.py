"""Every result as JSON to an MQTT broker: the record `run --json` writes, on
the target's topic (QoS 1 by default), and a retained "online"/"offline" on
<topic>/status ("offline" by last will when the process dies, and sent on a
clean close). paho-mqtt, the `mqtt` extra, is imported only here.

One network thread owns the client, so the pipeline never waits on the
network: write() appends the record to a bounded buffer and returns. The
thread hands records to paho in order, at most IN_FLIGHT unacknowledged at a
time, and only between its own calls of paho's loop: after a reconnect paho
resends the unacknowledged ones inside that loop, before the thread hands
over any more, so the broker sees the run's order. While the broker is away
the buffer fills; past its size the oldest record is dropped, counted, warned
about once and reported at the end."""
from __future__ import annotations

import collections
import logging
import socket
import ssl
import threading
import time

from ..errors import UserError
from .jsonl import json_record
from .mqtt_target import PASSWORD_ENV

log = logging.getLogger("edgeinfer")

CONNECT_SECONDS = 5.0          # one connection attempt: TCP, TLS and the broker's CONNACK
POLL_SECONDS = 0.05            # the network thread's wait on the socket between hand-overs
IN_FLIGHT = 20                 # records handed to paho and not yet acknowledged
BACKOFF_SECONDS = (0.5, 30.0)  # the first and the longest wait between reconnect attempts
CLOSING_RETRY_SECONDS = 1.0    # while closing, attempts come at least this often
FLUSH_STALL_SECONDS = 5.0      # close() gives up once nothing was acknowledged for this long
OFFLINE_SECONDS = 2.0          # close() waits this long for the broker to take "offline"
KEEPALIVE_SECONDS = 15
STATUS_QOS = 1
HOSTNAME_MISMATCH = 62   # OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH
ONLINE, OFFLINE = "online", "offline"


def _paho():
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise UserError("--mqtt needs paho-mqtt: pip install '.[mqtt]' in the edgeinfer checkout") from None
    return mqtt


class MqttSink:
    """write(item, result) never blocks; close() flushes and says what was not
    delivered. The constructor connects: a broker that cannot be reached or
    refuses the login is a UserError before the run starts."""

    def __init__(self, target):
        self.target = target
        self.written = 0       # results given to write()
        self.delivered = 0     # acknowledged by the broker (at QoS 0: written to the socket)
        self.overflowed = 0    # dropped, oldest first, while the buffer was full
        self.lost = 0          # QoS 0 records on the wire when the connection broke
        self.undelivered = 0   # still buffered or unacknowledged when close() gave up
        self._buffer = collections.deque()
        self._lock = threading.Lock()       # the buffer and the counts write() changes
        self._handed = {}      # mid -> None: records paho holds until the broker acknowledges
        self._acked = set()    # mids paho reported published since the last settle
        self._online = False
        self._connack = None
        self._went_away_at = None
        self._closing = threading.Event()
        self._give_up = threading.Event()
        self._mqtt = _paho()
        self._client = self._new_client()
        why = self._connect(first=True)
        if why:
            self._client.disconnect()  # stops a half-open connection; nothing to say yet
            raise UserError(f"--mqtt {target}: {why}")
        self._thread = threading.Thread(target=self._network, name="edgeinfer-mqtt",
                                        daemon=True)
        self._thread.start()

    # -- the pipeline's side ---------------------------------------------------------------

    def write(self, item, result):
        if result is None:
            return True
        record = json_record(result).encode("utf-8")
        with self._lock:
            self.written += 1
            self._buffer.append(record)
            full = len(self._buffer) > self.target.buffer
            if full:
                self._buffer.popleft()
                self.overflowed += 1
        if full and self.overflowed == 1:
            log.warning(f"mqtt: {self.target.address} is not taking results and the buffer of "
                        f"{self.target.buffer} is full: dropping the oldest, counted in the "
                        "summary (--mqtt-buffer N keeps more)")
        return True

    def close(self):
        """Waits while the broker keeps acknowledging, until all is delivered or
        FLUSH_STALL_SECONDS pass without progress; then says "offline" and
        disconnects. A warning names every result that did not arrive."""
        self._closing.set()
        progress, since = -1, time.monotonic()
        while self._thread.is_alive():
            self._thread.join(0.1)
            done = self.delivered + self.lost
            if done != progress:
                progress, since = done, time.monotonic()
            elif time.monotonic() - since > FLUSH_STALL_SECONDS:
                self._give_up.set()
                self._thread.join(CONNECT_SECONDS + 1)  # an attempt in progress may take this
                break
        with self._lock:
            self.undelivered = len(self._buffer) + len(self._handed)
        missing = self.overflowed + self.lost + self.undelivered
        if missing:
            log.warning(f"mqtt: {missing} of {self.written} results did not reach "
                        f"{self.target}: {self._losses()}")

    def report(self):
        """The run summary's line."""
        line = (f"mqtt: {self.delivered} of {self.written} results delivered to {self.target} "
                f"(QoS {self.target.qos})")
        losses = self._losses()
        return f"{line}; {losses}" if losses else line

    def _losses(self):
        parts = []
        if self.overflowed:
            parts.append(f"{self.overflowed} dropped while the broker was away (buffer "
                         f"{self.target.buffer}, --mqtt-buffer)")
        if self.lost:
            parts.append(f"{self.lost} lost with the connection (QoS 0)")
        if self.undelivered:
            parts.append(f"{self.undelivered} not acknowledged when the run ended")
        return ", ".join(parts)

    # -- the network thread's side ---------------------------------------------------------

    def _new_client(self):
        mqtt, target = self._mqtt, self.target
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        client.connect_timeout = CONNECT_SECONDS
        client.max_inflight_messages_set(IN_FLIGHT + 2)  # the records' window, the status
        if target.username:
            client.username_pw_set(target.username, target.password)
        if target.tls:
            try:
                client.tls_set(ca_certs=target.ca, certfile=target.cert, keyfile=target.key)
            except (ssl.SSLError, OSError) as error:
                raise UserError(f"--mqtt {target}: cannot use the TLS files: "
                                f"{_reason(error)}") from None
        client.will_set(target.status_topic, OFFLINE, qos=STATUS_QOS, retain=True)
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self._connack = reason_code

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self._acked.add(mid)   # at QoS 0 this can come inside publish(), before its mid is known

    def _connect(self, first=False):
        """Opens the connection and waits for the broker's answer: None once it
        accepted (and "online" is on its way), else a sentence saying why not."""
        target, client = self.target, self._client
        self._connack = None
        try:
            if first:
                client.connect(target.host, target.broker_port, KEEPALIVE_SECONDS)
            else:
                client.reconnect()
        except ssl.SSLCertVerificationError as error:
            if getattr(error, "verify_code", None) == HOSTNAME_MISMATCH:
                return (f"the TLS handshake failed: the broker's certificate is not for "
                        f"{target.host!r}; use the name (or address) it was issued for")
            return (f"the TLS handshake failed: the broker's certificate is not trusted "
                    f"({_reason(error)}); give the CA that signed it with --mqtt-ca FILE")
        except ssl.SSLError as error:
            return (f"the TLS handshake failed ({_reason(error)}): is {target.address} a TLS "
                    "port?")
        except socket.gaierror:
            return f"cannot find the broker host {target.host!r}"
        except ConnectionResetError:
            if target.tls:
                return f"{target.address} cut the TLS handshake off: is it a TLS port?"
            return f"{target.address} cut the connection off: is it an MQTT port?"
        except ConnectionRefusedError:
            return (f"nothing accepts connections at {target.address}: is the broker running, "
                    "on that port?")
        except (TimeoutError, socket.timeout):
            return f"no answer from {target.address} within {CONNECT_SECONDS:g} s"
        except OSError as error:
            return f"cannot reach {target.address}: {error.strerror or error}"
        deadline = time.monotonic() + CONNECT_SECONDS
        while self._connack is None and time.monotonic() < deadline:
            if client.loop(POLL_SECONDS) != self._mqtt.MQTT_ERR_SUCCESS and self._connack is None:
                return (f"{target.address} closed the connection without an MQTT answer "
                        "(a TLS port? then use mqtts://)")
        if self._connack is None:
            return f"{target.address} gave no MQTT answer within {CONNECT_SECONDS:g} s"
        if self._connack.is_failure:
            return self._refusal(self._connack)
        self._online = True
        client.publish(target.status_topic, ONLINE, qos=STATUS_QOS, retain=True)
        return None

    def _refusal(self, reason):
        if self.target.username:
            return (f"the broker refused user {self.target.username!r} ({reason}): check the "
                    f"user and its password (in the URL or {PASSWORD_ENV})")
        return (f"the broker refused the connection ({reason}); if it needs a login, give the "
                f"user in the URL (mqtt://USER@host/topic) and the password in {PASSWORD_ENV}")

    def _network(self):
        try:
            self._run_network()
        except Exception as error:  # never silent: what is left is counted by close()
            log.warning(f"mqtt: stopped publishing to {self.target.address}: {error}")

    def _run_network(self):
        delay, retry_at = BACKOFF_SECONDS[0], 0.0
        while not self._give_up.is_set():
            if self._online:
                try:
                    self._hand_over()
                    rc = self._client.loop(POLL_SECONDS)
                except OSError:  # a socket or TLS error paho did not turn into a code
                    rc = self._mqtt.MQTT_ERR_CONN_LOST
                self._settle()
                if rc != self._mqtt.MQTT_ERR_SUCCESS:
                    self._went_away()
                    delay = BACKOFF_SECONDS[0]
                    retry_at = time.monotonic() + delay
                if self._closing.is_set() and self._online and self._all_out():
                    break
                continue
            if self._closing.is_set() and self._all_out():
                return  # nothing left to deliver, and no broker to say "offline" to
            if self._closing.is_set():
                retry_at = min(retry_at, time.monotonic() + CLOSING_RETRY_SECONDS)
            wait = retry_at - time.monotonic()
            if wait > 0:
                self._give_up.wait(min(wait, 0.1))
                continue
            if self._connect() is None:
                log.warning(f"mqtt: connected to {self.target.address} again after "
                            f"{time.monotonic() - self._went_away_at:.1f} s")
            else:
                delay = min(delay * 2, BACKOFF_SECONDS[1])
                retry_at = time.monotonic() + delay
        if self._online:
            self._say_offline()

    def _hand_over(self):
        qos = self.target.qos
        while len(self._handed) < IN_FLIGHT:
            with self._lock:
                if not self._buffer:
                    return
                record = self._buffer.popleft()
            info = self._client.publish(self.target.topic, record, qos=qos)
            if qos == 0 and info.rc == self._mqtt.MQTT_ERR_NO_CONN:
                with self._lock:  # paho keeps only QoS 1 and 2 records for the next connection
                    self._buffer.appendleft(record)
                return
            self._handed[info.mid] = None

    def _settle(self):
        for mid in [mid for mid in self._handed if mid in self._acked]:
            del self._handed[mid]
            with self._lock:
                self.delivered += 1
        self._acked.clear()

    def _all_out(self):
        with self._lock:
            return not self._buffer and not self._handed

    def _went_away(self):
        self._online = False
        self._went_away_at = time.monotonic()
        if self.target.qos == 0:  # paho resends QoS 1 and 2 records; QoS 0 ones are gone
            with self._lock:
                self.lost += len(self._handed)
            self._handed.clear()
        log.warning(f"mqtt: lost the connection to {self.target.address}; keeping up to "
                    f"{self.target.buffer} results and reconnecting")

    def _say_offline(self):
        info = self._client.publish(self.target.status_topic, OFFLINE, qos=STATUS_QOS,
                                    retain=True)
        deadline = time.monotonic() + OFFLINE_SECONDS
        while info.mid not in self._acked and time.monotonic() < deadline:
            if self._client.loop(POLL_SECONDS) != self._mqtt.MQTT_ERR_SUCCESS:
                break
        self._client.disconnect()


def _reason(error):
    return getattr(error, "verify_message", None) or getattr(error, "reason", None) or \
        getattr(error, "strerror", None) or str(error)

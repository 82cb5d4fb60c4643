"""Where MQTT results go: a broker URL, mqtt://[user[:password]@]host[:port]/topic
(mqtts:// for TLS), with the TLS files, QoS and buffer size, checked before
anything connects. The password may come from EDGEINFER_MQTT_PASSWORD instead
of the URL, so it stays out of the process list and the shell history."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import unquote, urlsplit

from ..errors import UserError

PASSWORD_ENV = "EDGEINFER_MQTT_PASSWORD"
DEFAULT_QOS = 1
DEFAULT_BUFFER = 10000   # results kept while the broker is away: ~0.5 KB each
URL_FORM = "mqtt://[user[:password]@]host[:port]/topic (mqtts:// for TLS)"


@dataclass(frozen=True)
class MqttTarget:
    host: str
    topic: str
    port: Optional[int] = None     # None: 1883, or 8883 with TLS
    username: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)
    tls: bool = False
    ca: Optional[str] = None       # CA file that signed the broker's certificate (default: system)
    cert: Optional[str] = None     # client certificate, for brokers that ask for one
    key: Optional[str] = None      # its private key, when not inside the certificate file
    qos: int = DEFAULT_QOS
    buffer: int = DEFAULT_BUFFER

    @property
    def broker_port(self):
        return self.port or (8883 if self.tls else 1883)

    @property
    def status_topic(self):
        return f"{self.topic}/status"

    @property
    def address(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.broker_port}"

    def __str__(self):
        """The URL for messages and summaries: never the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.address}/{self.topic}"


def parse_mqtt_url(url, tls=False, ca=None, cert=None, key=None, qos=DEFAULT_QOS,
                   buffer=DEFAULT_BUFFER, environ=None):
    """The MqttTarget an --mqtt URL and its companion options name; a one-line
    UserError (without the password) for anything that cannot work."""
    environ = os.environ if environ is None else environ
    shown = _without_password(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("mqtt", "mqtts") or not parts.netloc:
        raise UserError(f"--mqtt takes {URL_FORM}, got {shown!r}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise UserError(f"--mqtt {shown}: the port must be a number from 1 to 65535") from None
    if not host:
        raise UserError(f"--mqtt {shown}: no broker host; the form is {URL_FORM}")
    if port == 0:
        raise UserError(f"--mqtt {shown}: the port must be a number from 1 to 65535")
    topic = unquote(parts.path).strip("/")
    if not topic:
        raise UserError(f"--mqtt {shown}: no topic to publish on; add one after the host, "
                        "as in mqtt://broker.local/edgeinfer/kitchen")
    if parts.query or "#" in url or "+" in topic:
        raise UserError(f"--mqtt {shown}: a topic to publish on has no wildcards (+ #) and the "
                        "URL no ?query")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is None and environ.get(PASSWORD_ENV):
        if not username:
            raise UserError(f"{PASSWORD_ENV} is set but --mqtt {shown} names no user: "
                            "give one, as in mqtt://USER@host/topic")
        password = environ[PASSWORD_ENV]
    if not 0 <= int(qos) <= 2:
        raise UserError(f"--mqtt-qos is 0, 1 or 2, got {qos}")
    if int(buffer) < 1:
        raise UserError(f"--mqtt-buffer must be at least 1, got {buffer}")
    if key and not cert:
        raise UserError("--mqtt-key is the private key of a client certificate: give the "
                        "certificate too, with --mqtt-cert FILE")
    for flag, path in (("--mqtt-ca", ca), ("--mqtt-cert", cert), ("--mqtt-key", key)):
        if path and not os.path.isfile(path):
            raise UserError(f"{flag} {path}: no such file")
    # a CA or client certificate only means something over TLS, so giving one asks for it
    tls = scheme == "mqtts" or bool(tls or ca or cert)
    return MqttTarget(host=host, topic=topic, port=port, username=username, password=password,
                      tls=tls, ca=ca, cert=cert, key=key, qos=int(qos), buffer=int(buffer))


def _without_password(url):
    parts = urlsplit(url)
    try:
        password = parts.password
    except ValueError:
        password = None
    if not password:
        return url
    return url.replace(f":{password}@", ":***@", 1)

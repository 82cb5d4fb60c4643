"""The MQTT sink on its own, against a real Mosquitto broker: write() returns
at once whatever the network does, and close() with the broker gone gives up
after FLUSH_STALL_SECONDS without progress, counting what was not delivered."""
import logging
import sys
import time

import pytest

from edgeinfer.run.postprocess import Prediction
from edgeinfer.run.results import ModelResult, Result
from edgeinfer.sinks.mqtt_target import parse_mqtt_url


def result(frame):
    now = time.time()
    return Result(frame, [ModelResult("m", [Prediction("cat", 0, 0.9)])], now, now,
                  {"wait": 0.0, "preprocess": 0.1, "inference": 0.2, "postprocess": 0.1,
                   "latency": 0.4})


def test_write_never_waits_and_close_gives_up_on_a_gone_broker(broker, caplog):
    from edgeinfer.sinks.mqtt import FLUSH_STALL_SECONDS, MqttSink

    sink = MqttSink(parse_mqtt_url(f"{broker.url}/edgeinfer/sink", buffer=50))
    broker.stop()
    started = time.monotonic()
    for frame in range(200):
        assert sink.write(None, result(frame)) is True
    assert sink.write(None, None) is True   # a frame --every skipped: nothing to publish
    assert time.monotonic() - started < 0.5
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="edgeinfer"):
        sink.close()
    took = time.monotonic() - started
    assert FLUSH_STALL_SECONDS <= took < FLUSH_STALL_SECONDS + 3
    assert (sink.written, sink.delivered, sink.overflowed, sink.undelivered) == (200, 0, 150, 50)
    assert sink.report().endswith("0 of 200 results delivered to mqtt://127.0.0.1:"
                                  f"{broker.port}/edgeinfer/sink (QoS 1); 150 dropped while the "
                                  "broker was away (buffer 50, --mqtt-buffer), 50 not "
                                  "acknowledged when the run ended")
    assert "200 of 200 results did not reach" in caplog.text


def test_without_paho_the_install_line_is_one_line(cli, media, monkeypatch):
    from conftest import assert_one_line_error

    for name in ("paho", "paho.mqtt", "paho.mqtt.client"):
        monkeypatch.setitem(sys.modules, name, None)   # as if edgeinfer[mqtt] was not installed
    code, _, err = cli("run", "--model", media["model"], "--video", media["clip"], "--mqtt",
                       "mqtt://127.0.0.1/edgeinfer/t")
    assert_one_line_error(code, err, "pip install '.[mqtt]'")

"""--mqtt and its companion options, for every command that publishes results
(run, serve): add_mqtt(parser) declares them, open_mqtt(args) checks them and
returns a connected MqttSink, or None without --mqtt. paho-mqtt is imported
only when --mqtt is given."""
from ..errors import UserError
from ..sinks.mqtt_target import DEFAULT_BUFFER, DEFAULT_QOS, PASSWORD_ENV, URL_FORM, \
    parse_mqtt_url

COMPANIONS = (("--mqtt-tls", "mqtt_tls", False), ("--mqtt-ca", "mqtt_ca", None),
              ("--mqtt-cert", "mqtt_cert", None), ("--mqtt-key", "mqtt_key", None),
              ("--mqtt-qos", "mqtt_qos", DEFAULT_QOS), ("--mqtt-buffer", "mqtt_buffer",
                                                       DEFAULT_BUFFER))


def add_mqtt(parser):
    group = parser.add_argument_group("MQTT (needs edgeinfer[mqtt]; docs/mqtt.md)")
    group.add_argument("--mqtt", metavar="URL",
                       help=f"publish every result as JSON to a broker: {URL_FORM}; the "
                            f"password may come from the {PASSWORD_ENV} environment variable "
                            "instead; a retained online/offline goes to TOPIC/status")
    group.add_argument("--mqtt-tls", action="store_true",
                       help="TLS with an mqtt:// URL (port 8883 unless the URL says)")
    group.add_argument("--mqtt-ca", metavar="FILE",
                       help="the CA certificate that signed the broker's (default: the "
                            "system's); implies TLS")
    group.add_argument("--mqtt-cert", metavar="FILE",
                       help="a client certificate, for brokers that ask for one; implies TLS")
    group.add_argument("--mqtt-key", metavar="FILE",
                       help="the client certificate's private key, when not in its file")
    group.add_argument("--mqtt-qos", type=int, choices=(0, 1, 2), default=DEFAULT_QOS,
                       help=f"MQTT quality of service of the results (default {DEFAULT_QOS}: "
                            "each arrives at least once)")
    group.add_argument("--mqtt-buffer", type=int, default=DEFAULT_BUFFER, metavar="N",
                       help="results kept, in order, while the broker is away; beyond that "
                            f"the oldest are dropped and counted (default {DEFAULT_BUFFER})")


def open_mqtt(args):
    """The MqttSink --mqtt asks for, connected; None without --mqtt. A one-line
    UserError for a bad URL, an unreachable broker or a refused login."""
    if not args.mqtt:
        given = [flag for flag, name, default in COMPANIONS
                 if getattr(args, name, default) != default]
        if given:
            raise UserError(f"{', '.join(given)} set{'s' if len(given) == 1 else ''} how "
                            "results go to an MQTT broker: give the broker with --mqtt URL")
        return None
    target = parse_mqtt_url(args.mqtt, tls=args.mqtt_tls, ca=args.mqtt_ca, cert=args.mqtt_cert,
                            key=args.mqtt_key, qos=args.mqtt_qos, buffer=args.mqtt_buffer)
    from ..sinks.mqtt import MqttSink

    return MqttSink(target)

"""The message bus port and its two implementations (in-process, Kafka)."""

from libs.platform.bus.port import Bus, Handler, Message

__all__ = ["Bus", "Handler", "Message"]

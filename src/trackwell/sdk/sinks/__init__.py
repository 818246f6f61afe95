"""Where acknowledged delivery goes: the ``Sink`` seam, the way httpx swaps transports.

The live ``Uploader``, ``Delivery`` (``trackwell sync``) and dead-letter retries hand batches to a
sink and keep its acks; what is on the other side is the sink's business. ``HttpSink`` posts to a
trackwell server (today's path); ``InProcessSink`` hands batches to an ingestor in this process
(tests, benchmarks). A wire-protocol translation (W&B's file_stream) is a sink too.

Importing this package loads no HTTP library: ``HttpSink`` imports the transport when it connects.
"""

from trackwell.sdk.sinks.base import Sink, Target
from trackwell.sdk.sinks.http import HttpSink
from trackwell.sdk.sinks.inprocess import InProcessSink, Receiver

__all__ = ["HttpSink", "InProcessSink", "Receiver", "Sink", "Target"]

"""Records and payloads shared by the client and the server."""

from trackwell.schema.records import (
    SUMMARY_MODES,
    Ack,
    AnyRecord,
    Batch,
    ConfigUpdate,
    Console,
    DefineMetric,
    Exit,
    History,
    Preempting,
    Record,
    RunStart,
    SummaryUpdate,
    decode_batch,
    decode_record,
    encode,
)

__all__ = [
    "SUMMARY_MODES",
    "Ack",
    "AnyRecord",
    "Batch",
    "ConfigUpdate",
    "Console",
    "DefineMetric",
    "Exit",
    "History",
    "Preempting",
    "Record",
    "RunStart",
    "SummaryUpdate",
    "decode_batch",
    "decode_record",
    "encode",
]

"""Records and payloads shared by the client and the server."""

from trackwell.schema.records import (
    RESUME_MODES,
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
    Skipped,
    SummaryUpdate,
    decode_batch,
    decode_record,
    encode,
)
from trackwell.schema.summary import SUMMARY_MODES

__all__ = [
    "RESUME_MODES",
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
    "Skipped",
    "SummaryUpdate",
    "decode_batch",
    "decode_record",
    "encode",
]

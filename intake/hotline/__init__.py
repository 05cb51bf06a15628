"""Hotline call logs: files that hotline staff drop in a folder become cases.

``CallLogScan`` reads and checks a file (.xlsx, .csv/.tsv, .jsonl) as a stream without
touching the database (``read_call_log`` / ``parse_call_log`` collect a small one);
``HotlineImporter`` claims files from the drop folder and hands each call to casework;
``watch.DropWatcher`` asks for a scan as soon as a file arrives.
"""

from intake.hotline.columns import DEFAULT_ALIASES, FIELDS, ColumnMap
from intake.hotline.dates import parse_call_time
from intake.hotline.fields import ANONYMOUS_MARKERS, normalise_email
from intake.hotline.folders import IGNORED_NAMES, HotlineFolders
from intake.hotline.importer import HotlineImporter, ImportReport, InboundHandler
from intake.hotline.phones import normalise_phone
from intake.hotline.problems import FieldProblem, RowError
from intake.hotline.reader import (
    CallLog,
    CallLogScan,
    decode_call_log,
    parse_call_log,
    read_call_log,
)
from intake.hotline.records import CallRecord, check_row

__all__ = [
    "ANONYMOUS_MARKERS",
    "DEFAULT_ALIASES",
    "FIELDS",
    "IGNORED_NAMES",
    "CallLog",
    "CallLogScan",
    "CallRecord",
    "ColumnMap",
    "FieldProblem",
    "HotlineFolders",
    "HotlineImporter",
    "ImportReport",
    "InboundHandler",
    "RowError",
    "check_row",
    "decode_call_log",
    "normalise_email",
    "normalise_phone",
    "parse_call_log",
    "parse_call_time",
    "read_call_log",
]

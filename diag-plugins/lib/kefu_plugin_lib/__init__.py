# kefu plugin library: what the shipped plugins' steps share. SPDX-License-Identifier: MIT
"""Parsers of system configuration, read the way the programs that own it read it, and a
path resolver that never leaves the examined root. Each plugin package carries its own copy
(diag-plugins/lib/sync copies it); VERSION says which one."""
import json
import os
import sys

VERSION = "1.1.0"

# Exit codes of a step (diag-plugins/FORMAT.md "Exit codes").
OK, PROBLEM, NOT_APPLICABLE, FAILED = 0, 1, 2, 3


def root_dir():
    """The examined root from KEFU_ROOT, '/' when unset."""
    return os.environ.get("KEFU_ROOT") or "/"


def emit(kind, **fields):
    """Writes one protocol line (a finding, progress or result) on stdout."""
    fields = {k: v for k, v in fields.items() if v is not None}
    line = json.dumps(dict(type=kind, **fields), ensure_ascii=False)
    if len(line.encode()) > 4000:  # the runner's line limit is 4096 bytes
        detail = fields.get("detail", "")
        fields["detail"] = detail[:max(0, len(detail) - (len(line.encode()) - 3900))] + "..."
        line = json.dumps(dict(type=kind, **fields), ensure_ascii=False)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def finding(severity, summary, detail=None):
    emit("finding", severity=severity, summary=summary, detail=detail)


def result(status, summary=None):
    emit("result", status=status, summary=summary)

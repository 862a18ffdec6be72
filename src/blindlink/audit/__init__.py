"""Privacy self-audit: published attacks played against one's own encodings before sharing.

``audit_file`` reads an encoded file and a public name-frequency list, runs the frequency
alignment attack and the pattern-mining attack of Christen et al. (PAKDD 2018) on it, and
reports what they claim, what they get right when the agency's own CSV is given, and
warnings about outlying popcounts and frequent identical filters. See ``docs/privacy.md``.
"""

from __future__ import annotations

from blindlink.audit.names import NameList, read_name_list
from blindlink.audit.report import AttackOutcome, AuditReport, AuditWarning
from blindlink.audit.run import audit_batch, audit_file, read_truth

__all__ = [
    "AttackOutcome",
    "AuditReport",
    "AuditWarning",
    "NameList",
    "audit_batch",
    "audit_file",
    "read_name_list",
    "read_truth",
]

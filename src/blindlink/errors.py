"""One hierarchy of errors, each class carrying the exit code the CLI returns for it.

Messages name the file, row, column and rule that failed -- never a record's value, a
token or key material -- because error text ends up in logs and e-mails.
"""

from __future__ import annotations


class BlindlinkError(Exception):
    """Base of every error blindlink raises on purpose; the CLI turns it into one line."""

    exit_code: int = 1


class InputError(BlindlinkError):
    """A CSV or DataFrame that cannot be read as case records (missing column, bad encoding)."""

    exit_code = 3


class SchemaError(BlindlinkError):
    """A linkage schema that is malformed or meaningless."""

    exit_code = 4


class EncodedFileError(BlindlinkError):
    """An encoded (.blk) file that is truncated, corrupted, or of an unknown format version."""

    exit_code = 5


class IncompatibleFilesError(BlindlinkError):
    """Encoded files that were made with different schemas or different secrets."""

    exit_code = 6


class SecretError(BlindlinkError):
    """A linkage secret that is missing, unreadable or malformed."""

    exit_code = 7


class OutputError(BlindlinkError):
    """An output location that cannot be written safely."""

    exit_code = 8


class BackendError(BlindlinkError):
    """A compute backend that is missing, unreachable, or lost work it was given."""

    exit_code = 9

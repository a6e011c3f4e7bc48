"""The privacy stage (issue 17): erasure requests through every table, and the audit.

Runs after bronze and before silver (docs/architecture.md): it resolves each request with
silver's standardisation and the identity map, deletes the people from every Delta table under
the lakehouse root, purges the old versions, redacts files, and adds their identifiers' salted
hashes to the suppression list so bronze quarantines them from then on.
"""

from c360.privacy.audit import overdue_requests
from c360.privacy.erase import ErasureReport, process_requests
from c360.privacy.requests import ErasureRequest, read_requests, write_request

__all__ = [
    "ErasureReport",
    "ErasureRequest",
    "overdue_requests",
    "process_requests",
    "read_requests",
    "write_request",
]

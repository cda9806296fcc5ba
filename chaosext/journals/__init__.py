"""The journal archive: ledger, verification, reports."""

"""The audit log's contract: typed events (``events``) and the tamper-evident chain (``chain``).

The rows themselves are ``models.audit.AuditEvent``; ``models.audit.record`` writes one.
"""

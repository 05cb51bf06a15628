"""Routing: which category, internal department or authority, which handler, who must never
see the case, what material is missing, and the commitment clock (clauses 三(五), 四, 七).

Rules are configuration (``config/routing.toml``); ``handling.routing_step.CaseRouter`` is what the
intake pipeline calls, ``routing.commitments.sweep`` what the scheduler's sweep job calls.
"""

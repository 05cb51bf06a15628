"""What happens to one inbound item between intake and the notices.

Intake parses a mail or a call-log row into an ``Inbound`` and hands it, in its ledger
transaction, to ``handling.pipeline.Pipeline``: receive or thread it (casework), route it
(``routing_step``: staff commands and authority answers, category, assignment, material),
acknowledge it (``acknowledgement``), plan its call tasks; ``notices`` carries what routing
asks to be said to the mail ``notifications`` queues; ``calls`` builds the hotline's daily
list of calls to make.
"""

"""Casework: the data of complaints and the rules that hold it together.

Owns the models, the case state machine, the timeline, the working-day clock and
reference numbers. It imports nothing from the other complaintd packages.
"""

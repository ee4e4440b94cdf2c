"""The audit pipeline's functions: the consumer (consume.py), the sweeper (sweep.py), and the
trail's read routes (list_venue_audit.py, list_platform_audit.py).

docs/architecture.md, "The audit pipeline", says how the parts fit together.
"""

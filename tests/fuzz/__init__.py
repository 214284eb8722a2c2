"""A hostile registry and token service, and a harness that runs the module's work against them.

``python -m tests.fuzz --cases 10000`` (``make fuzz``) runs generated cases; ``--seed S --case N`` replays one.
See docs/testing.md, "Fuzzing".
"""

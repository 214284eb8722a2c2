"""The tagscope.registry test kit: a real Distribution registry on 127.0.0.1.

``python -m tests.kit up`` starts it and ``python -m tests.kit down`` stops it;
pytest, molecule and the demo use the same code (see ``kit.py``).
"""

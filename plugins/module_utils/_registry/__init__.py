# This package is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The registry client shared by the image_tags module and lookup."""

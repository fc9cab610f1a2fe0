"""Readers of the platforms' own exports, and the service that imports them.

One module per format (`whatsapp`, `telegram`, `discord`, `slack`, `mbox`), each a
streaming parser that yields `InboundEvent`s and `ImportProblem`s; `run` stores them.
"""

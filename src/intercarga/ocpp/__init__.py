"""OCPP 1.6J, 2.0.1 and 2.1: the protocol core of the CSMS, without I/O.

``rpc`` turns text frames into events and calls into frames, ``schemas`` validates payloads,
``v16`` / ``v201`` / ``v21`` translate between each version and the version-free events of
``events`` and ``commands``, ``transaction`` is the transaction state machine. Nothing in this
package opens a socket, reads a clock or touches storage.
"""

__all__: list[str] = []

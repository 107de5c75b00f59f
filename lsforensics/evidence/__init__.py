"""Evidence integrity: hashing, manifest, Ed25519 signature, RFC 3161 timestamp, verification.

``seal.seal_case`` writes ``manifest.json``/``manifest.sha256`` (after appending the ``seal``
custody entry), ``manifest.sig`` and ``manifest.tsr``; ``verify.verify_case`` re-checks all of it.
"""

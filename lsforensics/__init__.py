"""lsforensics: forensic toolkit for recorded livestream-shopping videos.

The library works without the CLI: open a :class:`~lsforensics.case.Case`, run stages on it
(:mod:`lsforensics.extract` and later ones), read the JSON files they write.
"""

__version__ = "0.1.0"

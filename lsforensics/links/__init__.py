"""Cross-stream links: the same voice, the same footage, the same product (声音比对, 同款检索).

Per case, three stages write what a comparison needs (``voice.json``, ``footage.json`` with
``fingerprints/``, ``fingerprints/products.json``); :mod:`.compare` compares two cases from those
files alone, and ``lsf batch`` adds the links to its network. See docs/links.md.
"""

from __future__ import annotations

from ..stage import Stage


def per_case_stages() -> list[Stage]:
    """The link stages of ``lsf analyze``, after detect (products need its findings)."""
    from .footage import FootageStage
    from .products import ProductsStage
    from .voice import VoiceStage

    return [VoiceStage(), FootageStage(), ProductsStage()]

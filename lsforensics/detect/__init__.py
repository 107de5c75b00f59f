"""Detectors and the detect stage (writes findings.json)."""

from .base import DETECTORS, Detector, register

__all__ = ["DETECTORS", "Detector", "register"]

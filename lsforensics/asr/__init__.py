"""Speech recognition: offline Whisper backends, Simplified-Chinese output, corroborated term recovery.

Library entry points: ``transcribe_audio`` (array or file -> ``Transcript``) and the case stage
``TranscribeStage`` (action ``transcribe``). Nothing here imports click or rich.
"""

from .types import Candidate, Segment, Transcript, Word

__all__ = ["Candidate", "Segment", "Transcript", "Word"]

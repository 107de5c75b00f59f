"""``TranscribeStage`` (custody action ``transcribe``): media/audio.wav -> transcript.json/.srt/.vtt.

Resumable: each finished chunk is appended to ``.transcribe.checkpoint.jsonl`` in the case root.
The name is hidden but carries no ``.tmp-`` mark, so ``Case.clean_stale`` (run when the case is
locked) keeps it across a kill; the stage deletes it once the final files are written. The
checkpoint is keyed on the audio and every setting, so a rerun with other settings starts over.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..case import Case, atomic_write_json, atomic_write_text
from ..errors import InputError
from ..progress import Progress
from ..stage import Stage
from .backends import BACKENDS, get_backend
from .subtitles import to_srt, to_vtt
from .transcribe import TranscribeOptions, Transcriber
from .types import Transcript
from .weights import ModelInfo, identify_model

CHECKPOINT = ".transcribe.checkpoint.jsonl"


class TranscribeStage(Stage):
    name = "transcribe"
    # 2: a re-decoded term is refused where the record reads a sentence particle (爱吗)
    # 3: a re-decoded short term needs the lexicon's context around it (小香 for 这个小乡只是正经)
    # 4: word onsets found after a pause that follows the last sentence's tail
    # 5: a fresh sampler per decode (temperature fallback no longer depends on earlier chunks)
    version = 5

    def __init__(self, model: str | os.PathLike[str] | None = None, options: TranscribeOptions | None = None,
                 terms: list[str] | None = None, terms_note: str | None = None, context=None):  # noqa: ANN001
        """``terms``: the key terms for corroborated recovery, from the caller (``pipeline.key_terms``
        reads them from the case's rules); none means recovery is off and the transcript says so."""
        self.options = options or TranscribeOptions()
        if self.options.language not in ("zh", "en", "auto"):
            raise InputError(f"--language {self.options.language}: choose zh, en or auto")
        if self.options.backend not in BACKENDS:  # fail before a case is touched, not when the stage runs
            get_backend(self.options.backend)
        self.model_arg = model
        self.model: ModelInfo = identify_model(model)
        self.terms_note = terms_note
        self.terms = sorted(set(terms or []))
        self.context = context  # text.match.TermContext: the lexicon's context test for recovered terms

    def params(self) -> dict[str, Any]:
        return {
            "model_sha256": self.model.sha256,
            "model_format": self.model.format,
            **self.options.to_params(),
            "terms_sha256": hashlib.sha256("\n".join(self.terms).encode()).hexdigest(),
            "n_terms": len(self.terms),
            **({"context_rules_sha256": self.context.sha256} if self.context is not None else {}),
        }

    def inputs(self, case: Case) -> list[Path]:
        # audio.wav is listed only when present: a source without audio is a valid, finished state.
        return [p for p in (case.source_json, case.audio) if p.exists()] or [case.source_json]

    def outputs(self, case: Case) -> list[Path]:
        return [case.transcript_json, case.root / "transcript.srt", case.root / "transcript.vtt"]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        case.require(case.source_json, "extract")
        ckpt = case.root / CHECKPOINT
        resumed, elapsed, cpu = 0, 0.0, {}
        if not case.audio.exists():
            tr = Transcript("und", self.options.backend, self.model.to_dict(),
                            notes=["the source has no audio stream: nothing to transcribe"],
                            speech_duration=0.0, params=self.options.to_params())
        else:
            transcriber = Transcriber(self.model, self.options, self.terms, self.context)
            progress.log(f"transcribe: {self.options.backend}, model {self.model.name}, language {self.options.language}")
            tr = transcriber.transcribe_file(case.audio, progress=progress, checkpoint=ckpt)
            resumed, elapsed, cpu = transcriber.resumed_chunks, transcriber.elapsed_s, transcriber.cpu
        if self.terms_note:
            tr.notes = [n for n in tr.notes if not n.startswith("term recovery off")] + [self.terms_note]
        doc = tr.to_dict()
        doc["audio"] = {"path": "media/audio.wav", "present": case.audio.exists()}
        atomic_write_json(case.transcript_json, doc)
        atomic_write_text(case.root / "transcript.srt", to_srt(tr))
        atomic_write_text(case.root / "transcript.vtt", to_vtt(tr))
        ckpt.unlink(missing_ok=True)
        return {
            "language": tr.language, "segments": len(tr.segments), "duration": round(tr.duration, 2),
            "speech": None if tr.speech_duration is None else round(tr.speech_duration, 2),
            "candidates": len(tr.candidates), "accepted": sum(c.accepted for c in tr.candidates),
            "dropped": len(tr.dropped), "notes": tr.notes,
            "chunks": tr.params.get("chunks", 0), "resumed_chunks": resumed,
            "elapsed_s": elapsed,
            # CPU seconds of the decoding processes per phase (record decode, term recovery's
            # biased passes and acoustic scoring) and the recovery's window counts: where the time
            # goes. Process CPU time: when the chunks are decoded in lsf's own process (one chunk,
            # or one core) it also counts a stage running beside it (OCR).
            "cpu": cpu,
            "cpu_s": round(sum(v for k, v in cpu.items() if k.endswith("_cpu_s")), 2) if cpu else None,
        }

#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: system packages, a virtualenv, Python packages.
# Called by `make demo` and `make test`; a second run only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: ffmpeg (media), a CJK font (fixtures, PDF reports), openssl (RFC 3161 checks),
# chromium + poppler-utils (the report tests render the HTML and read the PDF text), chromium-driver
# (the review page's test drives chromium through selenium), espeak-ng (the realistic streams' second
# speaker, tests/realistic.py).
APT_PKGS=(ffmpeg fonts-wqy-zenhei openssl chromium chromium-driver poppler-utils espeak-ng)
missing=()
for pkg in "${APT_PKGS[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "bootstrap: Python >= 3.11 required ($("$PY" --version 2>&1))" >&2
  exit 2
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv

# Re-install only when the dependency declarations change.
stamp=".venv/.lsf-installed-$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing Python packages into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  # torch first and pinned: 2.13.0 is the local CPU wheel; any other version pulls GBs of CUDA.
  .venv/bin/python -m pip install -q torch==2.13.0
  .venv/bin/python -m pip install -q -e ".[dev,asr-extra]"
  # openai-whisper without its declared deps (~1 GB of triton that CPU inference never uses);
  # its real needs (tiktoken, numba, more-itertools, torch) come with the asr-extra extra.
  .venv/bin/python -m pip install -q --no-deps openai-whisper==20250625
  # Resemblyzer (voice.json: GE2E speaker encoder, weights in the wheel) without its declared
  # deps: `webrtcvad` would need a compiler (webrtcvad-wheels is the same module, declared in
  # pyproject) and `typing` is an obsolete backport; torch, librosa, scipy come from pyproject.
  .venv/bin/python -m pip install -q --no-deps resemblyzer==0.1.4
  rm -f .venv/.lsf-installed-*
  touch "$stamp"
fi

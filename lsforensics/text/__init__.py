"""Text matching for the detectors: normalisation, pinyin, the rules lexicon and the matcher."""

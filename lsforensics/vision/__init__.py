"""Visual analysis: safe image loading, OCR, masked-logo detection, reference matching.

Classical vision only (no CLIP/YOLO weights exist offline, see MODELS.md): PP-OCR through
rapidocr, cover-patch/blur/mosaic detection from local image statistics, and SIFT + RANSAC /
perceptual hashes against user-supplied reference images.
"""

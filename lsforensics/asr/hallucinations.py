"""Phrases Whisper writes on silence, music or noise (learned from subtitle credits in its training data).

A segment that is mostly one of these is moved to ``dropped`` in transcript.json with its reason,
never silently deleted. Compared after Simplified conversion, lower-casing and removing spaces and
punctuation. Kept as a module (not a data file) so it ships in every install.
"""

PHRASES: tuple[str, ...] = (
    "字幕由Amara.org社区提供",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "优优独播剧场YoYoTelevisionSeriesExclusive",
    "中文字幕",
    "谢谢观看",
    "感谢观看",
    "谢谢大家观看",
    "字幕志愿者",
    "字幕by索兰娅",
    "明镜与点点",
    "订阅我的频道",
    "thank you for watching",
    "thanks for watching",
    "please subscribe",
    "subtitles by the amara.org community",
)

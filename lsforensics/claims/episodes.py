"""Product episodes: which product the stream is selling at each moment.

A livestream sells one product after another; a product page describes one of them. A spoken
claim may be compared with a page only when it was made while that page's product was on sale.
The stream says which product that is in several ways, in order of trust:

1. **the product card** the platform shows over the picture: its link badge ("3号") read by OCR,
   constant while one product is on sale and changing with it;
2. **spoken link numbers** ("3号链接"): hosts announce the link they switch to, but also mention
   earlier links in passing ("一号链接就是今天的福利款"), so they count only without a card;
3. **scene cuts** (``frames.json`` reason ``scene``) bound an episode when no link is known;
4. **product nouns** said or shown inside the episode (包包, 皮带, 毛衣 …) name its product.

A page names its link ("3号链接" in its title, as Douyin and Taobao item titles do) and its product
nouns; a claim is compared with a page when the claim's episode has the page's link, or, where
either side has no link, when their product nouns agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .extract import TextUnit
from .ontology import normalize

_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_BADGE = re.compile(r"^\s*(\d{1,2})\s*号\s*$")  # the card's link badge alone ("3号")
_LINK = re.compile(r"(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*号\s*(?:链接|连接|链)")


def link_number(text: str) -> int | None:
    """'3号链接' / '三号链接' / '十二号链接' -> 3 / 3 / 12."""
    m = _LINK.search(normalize(text))
    return _to_int(m.group(1)) if m else None


def _to_int(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN.get(tens, 1) if tens else 1) * 10 + (_CN.get(ones, 0) if ones else 0)
    return _CN.get(s) if len(s) == 1 else None


@dataclass
class Episode:
    start: float
    end: float  # exclusive; the last episode ends at +inf
    link: int | None = None
    how: str = ""  # card | speech | scene | whole
    words: dict[str, int] = field(default_factory=dict)  # product nouns said/shown in it, with counts

    def holds(self, t: float | None) -> bool:
        return t is not None and self.start <= t < self.end

    def describe(self) -> str:
        w = ", ".join(sorted(self.words, key=lambda k: -self.words[k])[:3]) or "no product word"
        link = f"link {self.link}" if self.link is not None else "no link number"
        return f"{self.start:.0f}-{self.end:.0f} s ({link} from the {self.how}; {w})"


def _runs(marks: list[tuple[float, int]]) -> list[tuple[float, float, int]]:
    """Consecutive marks with the same link -> (first t, last t, link)."""
    runs: list[list] = []
    for t, link in sorted(marks):
        if runs and runs[-1][2] == link:
            runs[-1][1] = t
        else:
            runs.append([t, t, link])
    # a single stray mark between two runs of the same link is noise (an OCR misread)
    out: list[list] = []
    for r in runs:
        if out and r[2] == out[-1][2]:
            out[-1][1] = r[1]
        else:
            out.append(r)
    return [(a, b, link) for a, b, link in out]


def segment(units: list[TextUnit], scene_times: list[float], words_of: dict[int, set[str]]) -> list[Episode]:
    """Episodes of a stream from its text units (speech and OCR) and scene-cut times.

    ``words_of`` maps a unit index to the product nouns in it."""
    card = [(u.start, n) for u in units if u.source == "screen" and u.start is not None
            and (m := _BADGE.match(normalize(u.text))) and (n := int(m.group(1))) > 0]
    spoken = [(u.start, n) for u in units if u.source == "speech" and u.start is not None
              and (n := link_number(u.text) or 0) > 0]
    eps: list[Episode] = []
    for marks, how in ((card, "card"), (spoken, "speech")):
        runs = _runs([(t, n) for t, n in marks if t is not None])
        if len(runs) >= 1:
            for k, (a, b, link) in enumerate(runs):
                start = -1e18 if k == 0 else (runs[k - 1][1] + a) / 2
                end = 1e18 if k + 1 == len(runs) else (b + runs[k + 1][0]) / 2
                eps.append(Episode(start, end, link, how))
            break
    if not eps:
        cuts = sorted(t for t in scene_times if t > 0)
        bounds = [-1e18, *cuts, 1e18]
        eps = [Episode(a, b, None, "scene" if cuts else "whole") for a, b in zip(bounds, bounds[1:], strict=False)]
    for i, u in enumerate(units):
        for w in words_of.get(i, set()):
            ep = next((e for e in eps if e.holds(u.start)), None)
            if ep is not None:
                ep.words[w] = ep.words.get(w, 0) + 1
    return eps


EPISODES_SCHEMA = "lsf.episodes/1"


def episodes_document(eps: list[Episode], pages: list[tuple[str, int | None]]) -> dict:
    """The episodes the claims detector used, as written to ``evidence/episodes.json``: which product
    was on sale when, how that was known, and which page (by its link number) each episode meets.
    ``pages`` are (page file, its link number) of the case's product pages. Open ends are null."""
    rows = []
    for e in eps:
        words = sorted(e.words.items(), key=lambda kv: (-kv[1], kv[0]))
        rows.append({
            "start": None if e.start < -1e17 else round(e.start, 2),
            "end": None if e.end > 1e17 else round(e.end, 2),
            "link": e.link, "how": e.how,
            "words": [{"word": w, "count": n} for w, n in words[:8]],
            "pages": [name for name, link in pages if link is not None and link == e.link],
        })
    return {"schema": EPISODES_SCHEMA, "episodes": rows,
            "note": "how: card = the product card's link badge read on screen; speech = link numbers said; "
                    "scene = scene cuts; whole = one episode for the whole stream. A spoken claim is compared "
                    "with a page only when the page's link is the episode's, or their product words agree."}


def episode_at(eps: list[Episode], t: float | None) -> Episode | None:
    return next((e for e in eps if e.holds(t)), None)


def page_link(title: str) -> int | None:
    return link_number(title or "")

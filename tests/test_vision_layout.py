"""vision.layout on rendered realistic frames and on OCR rows: the platform's UI and its comment column."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic as R  # noqa: E402

from lsforensics.vision.layout import LayoutParams, comment_column, find_layout
from lsforensics.vision.masking import box_iou


def _rows(times: list[float], x: float = 20.0) -> list[dict]:
    """OCR rows of a comment column: each comment enters at the bottom and moves up 50 px per step."""
    rows = []
    for k, t in enumerate(times):
        for j in range(6):
            n = k - j
            if n >= 0:
                rows.append({"t": t, "text": f"用户{n}：评论内容{n}", "box": [x, 1000 - 50 * j, 300, 36]})
        rows.append({"t": t, "text": "¥129", "box": [500, 800, 80, 40]})  # the card's price stands still
    return rows


def test_comment_column_from_lines_moving_up() -> None:
    region, n = comment_column(_rows([2.0 * i for i in range(10)]), LayoutParams())
    print("\ncomment region:", region, "scrolling lines:", n)
    assert region is not None and n >= 20
    x, y, w, h = region
    assert x <= 20 <= x + w and y <= 750 and y + h >= 1036 and x + w < 500  # the price card is not in it


def test_a_comment_caught_sliding_in_below_the_column_is_in_it() -> None:
    """A new comment slides in below the resting lines and is read there in few frames (here 1 in
    8, ~1.4 % of the moving lines, as over an hour of the realistic stream); it is still in the
    column. A single stray pair of lines moving up elsewhere does not stretch the column."""
    from lsforensics.vision.layout import Layout

    times = [2.0 * i for i in range(100)]
    rows = _rows(times)
    entering = []
    for k in range(0, 99, 8):  # caught 40 px lower, then at the first resting place
        box = [20, 1040, 300, 36]
        entering.append(box)
        rows.append({"t": times[k], "text": f"新用户{k}：刚进来", "box": box})
        rows.append({"t": times[k + 1], "text": f"新用户{k}：刚进来", "box": [20, 1000, 300, 36]})
    rows += [{"t": times[50], "text": "飘过的字", "box": [40, 300, 200, 36]},
             {"t": times[51], "text": "飘过的字", "box": [40, 250, 200, 36]}]
    region, n = comment_column(rows, LayoutParams())
    print("\ncomment region:", region, "scrolling lines:", n, "entering boxes:", len(entering))
    lay = Layout(width=720, height=1280, comment_region=region)
    assert all(lay.in_comments(b) for b in entering)
    assert region is not None and region[1] > 600  # not stretched up to the stray pair at y 250-300


def test_no_column_without_scrolling() -> None:
    rows = [{"t": 2.0 * i, "text": "直播间专享", "box": [20, 150, 300, 40]} for i in range(10)]
    assert comment_column(rows, LayoutParams())[0] is None


def test_static_overlay_on_a_moving_camera(tmp_path: Path) -> None:
    spec = R.StreamSpec(seed=3, minutes=1)
    eps = [R.Episode(i, i * 30.0, i * 30.0 + 30, p, "x", i + 1, "plain", None, "标题", 99)
           for i, p in enumerate(("bag", "photo:arla", "serum", "shoes"))]
    r = R.Renderer(spec, eps, 120.0)
    frames = []
    for k in range(40):
        p = tmp_path / f"{k:03d}.jpg"
        cv2.imwrite(str(p), cv2.cvtColor(r.frame(k * 3.0)[0], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
        frames.append((k * 3.0, p))
    lay = find_layout(frames, spec.size)
    truth = R.ui_layout(*spec.size)
    print("\n" + lay.describe(), lay.ui_boxes)
    for name in ("capsule", "counters", "card", "input_bar"):
        box = getattr(truth, name)
        assert any(box_iou(b, box) >= 0.3 for b in lay.ui_boxes), name
    mask = lay.ui_mask(*spec.size)
    x, y, w, h = (int(v) for v in R.ui_layout(*spec.size).card)
    cx0, cy0 = spec.size[0] // 2 - 60, int(spec.size[1] * 0.42)  # the product in the middle is not UI
    assert mask[y:y + h, x:x + w].mean() > 0.6 and mask[cy0:cy0 + 120, cx0:cx0 + 120].mean() < 0.05

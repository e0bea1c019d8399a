"""Makes assets/demo/demo-card.mp4 (or .avi): the demo member's Codabar card held up to the
camera, the video `camera = "auto"` plays on a machine without a camera.

Run from the repository root: .venv/bin/python scripts/make_demo_video.py
About 7 s at 15 fps (OpenCV's mp4v writer has a fixed bit rate, ~14 KB a frame: this
keeps the file under 1.5 MB); it starts and ends on the empty scene, so it loops without a
jump.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kiosk.demo import footage, membercard  # noqa: E402

DEMO_MEMBER = membercard.MemberCard(member_id="19000123", name="Siti Aminah", symbology="Codabar")
FPS = 15.0
GESTURE = footage.Sequence(
    empty_before=24,
    entering=8,
    held=44,
    leaving=8,
    empty_after=14,
    pose=footage.Pose(angle=6.0, tilt=0.06, blur=0.7, noise=1.0, width_fraction=0.52),
)


def main() -> int:
    fourcc, suffix = footage.video_codec()
    target = REPO / "assets" / "demo" / f"demo-card{suffix}"
    for old in target.parent.glob("demo-card.*"):
        old.unlink()
    footage.write_card_video(target, [DEMO_MEMBER], GESTURE, fps=FPS, seed=11)
    frames = GESTURE.empty_before + GESTURE.entering + GESTURE.held + GESTURE.leaving
    frames += GESTURE.empty_after
    size_kb = target.stat().st_size / 1024
    print(f"{target.relative_to(REPO)}: {frames} frames, {frames / FPS:.1f} s, {fourcc}, "
          f"{size_kb:.0f} KB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`kiosk decode` as a user runs it: one JSON line per image, errors on their own line,
exit 1 at the end when a file could not be read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from kiosk.demo import footage, membercard


def _decode(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "decode", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def card_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "kartu anggota.jpg"
    frame = footage.card_frame(membercard.MemberCard(), footage.Pose(angle=18, blur=0.8))
    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return path


def test_json_lines_for_found_nothing_missing_and_garbage_then_exit_1(
    zxing_samples: Path, card_photo: Path, tmp_path: Path, repo_root: Path
) -> None:
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG but not really" * 10)
    missing = tmp_path / "missing.webp"
    blank = zxing_samples / "falsepositives-2" / "01.webp"
    qr = zxing_samples / "qrcode-2" / "1.png"
    args = ["--json", str(card_photo), str(missing), str(garbage), str(blank), str(qr)]
    done = _decode(*args, cwd=repo_root)
    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["path"] for line in lines] == args[1:]
    photo, gone, bad, nothing, code = lines
    assert (photo["text"], photo["format"]) == ("A19000123B", "Codabar")
    assert set(photo) == {"path", "text", "format", "ms"} and photo["ms"] > 0
    assert gone["text"] is None and "no such file" in gone["error"]
    assert bad["text"] is None and bad["error"]
    assert (nothing["text"], nothing["format"]) == (None, None) and "error" not in nothing
    assert code["text"] == (qr.with_suffix(".txt")).read_text(encoding="utf-8").replace(
        "\n", "\r\n"
    ) or code["text"] == qr.with_suffix(".txt").read_text(encoding="utf-8")
    assert code["format"] == "QRCode"


def test_all_files_readable_exits_0_even_when_nothing_is_found(
    zxing_samples: Path, repo_root: Path
) -> None:
    blank = zxing_samples / "falsepositives-1" / "01.webp"
    code39 = sorted((zxing_samples / "code39-3").glob("*.webp"))[0]
    done = _decode(str(blank), str(code39), "--decoders", "pyzbar", cwd=repo_root)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first.startswith(f"{blank}: nothing found")
    expected = code39.with_suffix(".txt").read_text(encoding="utf-8")
    assert second.startswith(f"{code39}: {expected!r} Code39")


def test_live_decoding_of_a_video_prints_each_card_once(
    card_then_book_video: Path, repo_root: Path
) -> None:
    done = _decode("--json", "--camera", str(card_then_book_video), "--seconds", "30",
                   cwd=repo_root)  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["kind"], e["text"], e.get("member_id")) for e in events] == [
        ("card", "A19000123B", "19000123"),
        ("rejected", "9786020332956", None),
    ]


def test_unknown_decoder_is_a_configuration_error(repo_root: Path, card_photo: Path) -> None:
    done = _decode("--decoders", "zbar", str(card_photo), cwd=repo_root)
    assert done.returncode == 2
    assert "unknown decoder 'zbar'" in done.stderr

"""`kiosk decode` against zxing-cpp alone on a local copy of zxing-cpp's blackbox sample folders
(test/samples/ of its repository, for the formats a card carries), given by the environment
variable KIOSK_BENCH_ZXING_SAMPLES: images read and wrong reads per folder, p50 ms.

The images are not part of the project: point the variable at a folder holding the sample
folders (codabar-1, code128-1, ..., falsepositives-1); without it this part is skipped.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import cv2

from bench.report import write_section
from bench.scanner import row, same_text
from kiosk.config import ScannerSettings
from kiosk.terminal.scanner.chain import build_chain
from kiosk.terminal.scanner.commands import ImageUnreadable, decode_file, load_gray
from kiosk.terminal.scanner.decoders import ZxingDecoder

FOLDER_PREFIXES = (
    "codabar-",
    "code128-",
    "code39-",
    "ean13-",
    "itf-",
    "qrcode-",
    "falsepositives-",
)


def _expected(image: Path) -> str | None:
    text = image.with_suffix(".txt")
    return text.read_text(encoding="utf-8") if text.exists() else None


def main() -> int:
    root = os.environ.get("KIOSK_BENCH_ZXING_SAMPLES", "")
    if not root or not Path(root).is_dir():
        print("KIOSK_BENCH_ZXING_SAMPLES is not a folder: the zxing-cpp blackbox part is skipped")
        return 0
    cv2.setNumThreads(1)
    settings = ScannerSettings()
    chain = build_chain(settings)
    zxing = ZxingDecoder(settings.formats)
    folders = sorted(
        p for p in Path(root).iterdir() if p.is_dir() and p.name.startswith(FOLDER_PREFIXES)
    )
    load = os.getloadavg()
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start, cv2.setNumThreads(1).\n",
        row("folder", "images", "kiosk decode: read (wrong)", "zxing-cpp alone: read (wrong)"),
        "|---|---:|---:|---:|",
    ]
    totals = {"kiosk": [0, 0], "zxing": [0, 0]}
    ms: dict[str, list[float]] = {"kiosk": [], "zxing": []}
    for folder in folders:
        counts = {"kiosk": [0, 0], "zxing": [0, 0]}
        images = 0
        for image in sorted(folder.iterdir()):
            if image.suffix == ".txt":
                continue
            try:
                gray = load_gray(image)
            except (ImageUnreadable, cv2.error):
                continue
            images += 1
            expected = _expected(image)
            started = time.perf_counter()
            record = decode_file(image, chain)
            ms["kiosk"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            found = zxing.decode(gray)
            ms["zxing"].append((time.perf_counter() - started) * 1000)
            reads = {
                "kiosk": [record["text"]] if record.get("text") is not None else [],
                "zxing": [s.text for s in found],
            }
            for name, texts in reads.items():
                right = expected is not None and any(same_text(t, expected) for t in texts)
                counts[name][0] += right
                counts[name][1] += bool(texts) and not right
        for name in counts:
            totals[name][0] += counts[name][0]
            totals[name][1] += counts[name][1]
        cells = [f"{read} ({wrong})" for read, wrong in counts.values()]
        lines.append(row(folder.name, images, *cells))
    lines.append(row("**all**", "", *(f"**{r}** ({w})" for r, w in totals.values())))
    lines.append(
        row("p50 ms per image", "", *(f"{statistics.median(v):.1f}" for v in ms.values() if v))
    )
    for line in lines:
        print(line)
    write_section("## Scanner: zxing-cpp blackbox folders\n\n" + INTRO + "\n".join(lines) + "\n")
    return 0


INTRO = """`KIOSK_BENCH_ZXING_SAMPLES=/path/to/samples .venv/bin/python -m bench scanner-folders`
(bench/scanner_folders.py): each image as `kiosk decode FILE` reads it (the configured chain,
its still-image budget), beside zxing-cpp alone with all its retries. Read = the expected text
(the image's .txt); wrong = a text read that is not it (for falsepositives-*: any read).

"""


if __name__ == "__main__":
    raise SystemExit(main())

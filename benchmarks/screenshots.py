"""Render a run's ``report.html`` and ``map.html`` to PNG screenshots with headless Chromium.

Usage: ``python benchmarks/screenshots.py RUN_DIR OUT_DIR [--report-size 1400x2600] [--map-size 1600x1000]``.
Writes ``OUT_DIR/report.png`` (the top of the report: headline figures, the map, the first tables) and
``OUT_DIR/map.png`` (the interactive map as it first opens), e.g. for ``docs/report.png`` and ``docs/map.png``.

Chromium runs with networking blocked (a dead proxy and no DNS), so the pictures also prove the pages are
self-contained. Needs Debian's ``chromium`` package (``apt-get install chromium``); nothing is downloaded.
The test suite imports :func:`screenshot` and :func:`dump_dom` from here.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Flags for a headless, offline, throwaway Chromium (root-safe).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
TIMEOUT_S = 180


def find_chromium() -> str | None:
    """The Chromium executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(page: Path, extra: list[str], *, chromium: str | None) -> subprocess.CompletedProcess[str]:
    executable = chromium or find_chromium()
    if executable is None:
        raise RuntimeError("Chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="footprint-chromium-") as profile:
        return subprocess.run(
            [
                executable,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                *extra,
                Path(page).resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )


def screenshot(
    page: Path,
    png: Path,
    *,
    width: int = 1400,
    height: int = 1600,
    wait_ms: int = 10000,
    chromium: str | None = None,
) -> Path:
    """Screenshot ``page`` (an HTML file) at ``width`` x ``height`` CSS pixels into ``png``."""
    png = Path(png).resolve()
    png.unlink(missing_ok=True)
    done = _run(
        page,
        [f"--window-size={width},{height}", f"--virtual-time-budget={wait_ms}", f"--screenshot={png}"],
        chromium=chromium,
    )
    if not png.is_file():
        raise RuntimeError(
            f"Chromium wrote no screenshot of {page} (exit {done.returncode}): {done.stderr[-800:]}"
        )
    return png


def dump_dom(page: Path, *, wait_ms: int = 10000, chromium: str | None = None) -> str:
    """The page's DOM after its scripts ran (``--dump-dom``)."""
    done = _run(page, [f"--virtual-time-budget={wait_ms}", "--dump-dom"], chromium=chromium)
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(f"Chromium could not load {page} (exit {done.returncode}): {done.stderr[-800:]}")
    return done.stdout


def _size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path, help="folder written by footprint run")
    parser.add_argument("out_dir", type=Path, help="folder for report.png and map.png")
    parser.add_argument("--report-size", type=_size, default=(1400, 2600), help="WIDTHxHEIGHT of report.png")
    parser.add_argument("--map-size", type=_size, default=(1600, 1000), help="WIDTHxHEIGHT of map.png")
    args = parser.parse_args()
    pages = {"report.png": args.run_dir / "report.html", "map.png": args.run_dir / "map.html"}
    missing = [str(page) for page in pages.values() if not page.is_file()]
    if missing:
        print(
            f"error: {', '.join(missing)} not found; give a folder written by footprint run", file=sys.stderr
        )
        return 2
    if find_chromium() is None:
        print("error: Chromium not found; install it with: apt-get install chromium", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, page in pages.items():
        width, height = args.report_size if name == "report.png" else args.map_size
        written = screenshot(page, args.out_dir / name, width=width, height=height)
        print(f"wrote {written} ({width}x{height})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

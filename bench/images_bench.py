"""Listing photos under load: peak memory and time when ten members upload ten images at once.

Each scenario runs in a fresh subprocess, so its peak RSS (VmHWM) is its own:
  bounded  - the bot's path: economy.core.images.process_image_off_loop (draft decode, 24 MP cap, two
             decode threads), 100 uploads started together;
  naive    - the same uploads with a plain full decode and no bound (what the bot did before);
  bomb     - ten members each upload the 124 KiB 8000x5000 PNG that used to cost ~400 MiB.
Prints peak RSS (MiB) and seconds per scenario and the bounded/naive ratio of both.

    .venv/bin/python bench/images_bench.py [--uploads 100]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

WORKER = r"""
import asyncio, io, json, sys, time
from PIL import Image
from economy.core.images import process_image_off_loop, ImageTooLarge

def naive(data):
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        img = img.convert("RGB")
        img.thumbnail((1600, 1600))
        out = io.BytesIO(); img.save(out, "JPEG", quality=85)
        return out.getvalue()

def vmhwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

async def main(mode, uploads, folder):
    names = ["bomb.png"] if mode == "bomb" else ["photo.jpg", "photo.png"]
    kinds = [open(f"{folder}/{name}", "rb").read() for name in names]
    data = [kinds[i % len(kinds)] for i in range(uploads)]
    base = vmhwm()
    async def bounded(d):
        try:
            return await process_image_off_loop(d)
        except ImageTooLarge:
            return None
    async def unbounded(d):
        return await asyncio.to_thread(naive, d)
    work = unbounded if mode == "naive" else bounded
    start = time.perf_counter()
    results = await asyncio.gather(*(work(d) for d in data))
    took = time.perf_counter() - start
    print(json.dumps({"mode": mode, "seconds": took, "peak_mib": vmhwm(), "base_mib": base,
                      "refused": sum(r is None for r in results),
                      "input_kib": sum(map(len, data)) / len(data) / 1024}))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
"""

MAKE = r"""
import sys
from PIL import Image, ImageFilter
folder = sys.argv[1]
# Camera-like content (smooth areas, some texture) so the files have realistic sizes.
def photo(size):
    small = Image.effect_noise((size[0] // 40, size[1] // 40), 60).convert("RGB")
    big = small.resize(size, Image.BICUBIC)
    grain = Image.effect_noise(size, 12).convert("RGB")
    return Image.blend(big, grain, 0.15)
photo((6000, 4000)).save(f"{folder}/photo.jpg", "JPEG", quality=88)   # 24 MP camera photo
photo((3000, 2000)).save(f"{folder}/photo.png", "PNG")                # a big screenshot-ish PNG
Image.new("RGB", (8000, 5000), (200, 30, 30)).save(f"{folder}/bomb.png", "PNG", optimize=True)
"""


def run(mode: str, uploads: int, folder: str) -> dict:
    """One scenario in a fresh interpreter; returns its measurements."""
    out = subprocess.run([sys.executable, "-c", WORKER, mode, str(uploads), folder], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-c", MAKE, folder], check=True)
        sizes = {p.name: p.stat().st_size // 1024 for p in Path(folder).iterdir()}
        print("inputs (KiB):", sizes)
        rows = {mode: run(mode, args.uploads if mode != "bomb" else 10, folder)
                for mode in ("bounded", "naive", "bomb")}
    print(f"{'scenario':<9} {'uploads':>7} {'avg KiB':>8} {'peak MiB':>9} {'baseline':>9} "
          f"{'seconds':>8} {'refused':>8}")
    for mode, r in rows.items():
        n = args.uploads if mode != "bomb" else 10
        print(f"{mode:<9} {n:>7} {r['input_kib']:>8.0f} {r['peak_mib']:>9.0f} "
              f"{r['base_mib']:>9.0f} {r['seconds']:>8.2f} {r['refused']:>8}")
    b, n = rows["bounded"], rows["naive"]
    grow_b, grow_n = b["peak_mib"] - b["base_mib"], n["peak_mib"] - n["base_mib"]
    print(f"\npeak growth bounded/naive: {grow_b:.0f}/{grow_n:.0f} MiB = {grow_b / grow_n:.2f}x; "
          f"time bounded/naive = {b['seconds'] / n['seconds']:.2f}x")


if __name__ == "__main__":
    main()

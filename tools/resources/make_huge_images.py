#!/usr/bin/env python3
"""Writes the resource attack of issue 15 as a dataset folder: tiny PNG files that declare huge images.

  huge/      six 10000 x 10000 greyscale PNGs (about 97 KB each; 100 million pixels declared)
  large/     six 8000 x 8000 greyscale PNGs, under the worker's side limit (8192): they are decoded, so the
             worker's in-flight pixel budget is what bounds its memory
  stripes/, spots/  small 256 x 256 RGB images (12 each), the ordinary part of the job

Usage: /usr/bin/python3 tools/resources/make_huge_images.py OUT_DIR [--huge N] [--large N] [--normal N]
Only the standard library and numpy; seeded, so the files are the same on every run.
"""
import argparse
import os
import struct
import zlib

import numpy as np


def write_png(path, pixels):
    """pixels: H x W (grey) or H x W x 3 (RGB) uint8."""
    height, width = pixels.shape[:2]
    colour_type = 0 if pixels.ndim == 2 else 2
    rows = pixels.reshape(height, -1)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()  # filter byte 0 per row
    write_raw_png(path, width, height, colour_type, raw)


def write_constant_grey_png(path, side, value):
    """A side x side grey PNG of one value, compressed row by row so that 100 MB of pixels never sit in memory twice."""
    row = b"\x00" + bytes([value]) * side
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(side)]
    parts.append(compressor.flush())
    write_raw_png(path, side, side, 0, None, b"".join(parts))


def write_raw_png(path, width, height, colour_type, raw, compressed=None):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    data = compressed if compressed is not None else zlib.compress(raw, 9)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--huge", type=int, default=6, help="10000 x 10000 PNGs (default 6)")
    parser.add_argument("--large", type=int, default=6, help="8000 x 8000 PNGs (default 6)")
    parser.add_argument("--normal", type=int, default=12, help="256 x 256 images per ordinary class (default 12)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    for folder, count, side in (("huge", args.huge, 10000), ("large", args.large, 8000)):
        os.makedirs(os.path.join(args.out, folder), exist_ok=True)
        for i in range(count):
            # Different grey levels: different file contents, so no two share a feature-cache entry.
            write_constant_grey_png(os.path.join(args.out, folder, f"{folder}_{i:02d}.png"), side, 40 + 30 * i)
    y, x = np.mgrid[0:256, 0:256]
    for folder in ("stripes", "spots"):
        os.makedirs(os.path.join(args.out, folder), exist_ok=True)
        for i in range(args.normal):
            base = 0.5 + 0.5 * np.sin(x / (6 + i % 3)) if folder == "stripes" else np.exp(-((x - 128) ** 2 + (y - 128) ** 2) / (800 + 60 * i))
            noise = rng.normal(0, 0.05, (256, 256))
            grey = np.clip((base + noise) * 255, 0, 255).astype(np.uint8)
            write_png(os.path.join(args.out, folder, f"{folder}_{i:02d}.png"), np.stack([grey, grey // 2, 255 - grey], axis=2))
    for root, _, files in sorted(os.walk(args.out)):
        for name in sorted(files):
            path = os.path.join(root, name)
            print(f"{os.path.getsize(path):>9} {path}")


if __name__ == "__main__":
    main()

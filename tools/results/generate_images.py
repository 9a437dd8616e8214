#!/usr/bin/python3
"""Writes N small generated PNG images in K class folders (numpy and zlib only: no Pillow needed).

Used to measure the result files at scale (README, "Result files"; docs/BENCHMARKS.md):
    /usr/bin/python3 tools/results/generate_images.py /tmp/scale-images 5000 --classes 8 --size 64
Each class is a noisy grey plate with a dark disc at a class-specific place; the seed makes the files reproducible.
"""
import argparse
import os
import struct
import zlib

import numpy as np


def png_bytes(rgb: np.ndarray) -> bytes:
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder")
    parser.add_argument("count", type=int)
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    random = np.random.default_rng(args.seed)
    yy, xx = np.mgrid[0:args.size, 0:args.size]
    for c in range(args.classes):
        os.makedirs(os.path.join(args.folder, f"class{c}"), exist_ok=True)
    for i in range(args.count):
        c = i % args.classes
        angle = 2 * np.pi * c / args.classes
        cy = args.size / 2 + args.size / 4 * np.sin(angle)
        cx = args.size / 2 + args.size / 4 * np.cos(angle)
        plate = 160 + random.normal(0, 12, (args.size, args.size))
        plate[(yy - cy) ** 2 + (xx - cx) ** 2 < (args.size / 8) ** 2] -= 90
        grey = np.clip(plate, 0, 255).astype(np.uint8)
        with open(os.path.join(args.folder, f"class{c}", f"{i:06d}.png"), "wb") as f:
            f.write(png_bytes(np.stack([grey, grey, grey], axis=-1)))


if __name__ == "__main__":
    main()

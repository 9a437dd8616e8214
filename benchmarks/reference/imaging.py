#!/usr/bin/python3
"""Reference timing for the `imaging` benchmark: PIL decode + torchvision-style preprocessing
(Resize(256) bilinear, CenterCrop(224), ToTensor, Normalize) in PIL + numpy, per 512x512 JPEG.

Run: /usr/bin/python3 benchmarks/reference/imaging.py [iterations=200] [size=512]
"""
import io
import sys
import time

import numpy as np
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)[:, None, None]
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)[:, None, None]


def synthetic_jpeg(size, quality=90):
    rng = np.random.default_rng(1234)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    img = np.stack([255 * x / size, 128 + 100 * np.sin(x / 17) * np.cos(y / 23), 255 * y / size], -1)
    img[(x - size // 3) ** 2 + (y - size // 2) ** 2 < size * size / 25] = [230, 40, 30]
    img += rng.integers(-12, 13, size=(size, size, 1))
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def load(data, resize=256, crop=224):
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(resize * long / short)
    im = im.resize((resize, new_long) if w <= h else (new_long, resize), Image.BILINEAR)
    w, h = im.size
    top, left = int(round((h - crop) / 2.0)), int(round((w - crop) / 2.0))
    a = np.asarray(im.crop((left, top, left + crop, top + crop)))
    t = a.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    return (t - MEAN) / STD


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 512
    data = synthetic_jpeg(size)
    for _ in range(max(10, iterations // 10)):
        load(data)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        load(data)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"{size}x{size} JPEG, {len(data) / 1024:.0f} KiB: PIL+numpy load median {times[len(times) // 2]:.3f} ms, "
          f"p10 {times[len(times) // 10]:.3f}, p90 {times[len(times) * 9 // 10]:.3f}")


if __name__ == "__main__":
    main()

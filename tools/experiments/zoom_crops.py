#!/usr/bin/python3
"""Offline experiment (issue 13, session 12, idea A): zoom into each image's most anomalous region, as a dataset.

AnomalyNCD's main idea, simplified: a job's patch scores say where the defect is, so embedding a crop around it should
describe the defect, not the part. From a finished `anomaly-cluster cluster` job (alpha.npy, clusters.csv), each image's
patch scores are s_ik = tau log alpha_ik + c_i (the softmax inverted up to a per-image constant, which no ranking
depends on). The crop box is the bounding box of the image's top-q patches on the alpha grid, padded by `pad` patches
on each side, grown about its centre to at least `min_side` of the grid on each axis (1/4 by default), and clamped
to the image. The product's preprocessing is Stretch (the whole image resized to 224 x 224), so grid cell (r, c) of an
H x W image covers rows [r H / 28, (r + 1) H / 28) and columns alike. The box is cut from the ORIGINAL image and
resized to 224 x 224 (PIL bilinear), written as PNG under OUT/test/<label>/<stem>.png, a labelled dataset layout that
`anomaly-cluster cluster OUT --mode average` embeds (labels stay folder names, for evaluation only). A manifest
(crops.csv) maps each crop to its source image and box.

Usage: /usr/bin/python3 tools/experiments/zoom_crops.py RUN DATASET OUT [--top 8] [--pad 1] [--min-side 0.25]
"""
import argparse
import csv
import json
import os

import numpy as np
from PIL import Image

CROP_SIDE = 224


def crop_box(scores, grid_h, grid_w, top, pad, min_side):
    """(r0, r1, c0, c1) in grid cells, half-open: the top-q cells' bounding box, padded, grown to min_side, clamped."""
    cells = np.argsort(-scores)[:top]
    rows, cols = cells // grid_w, cells % grid_w
    box = []
    for low, high, size in ((rows.min(), rows.max() + 1, grid_h), (cols.min(), cols.max() + 1, grid_w)):
        low, high = max(0, low - pad), min(size, high + pad)
        least = int(np.ceil(min_side * size))
        if high - low < least:
            centre = (low + high) / 2.0
            low = int(round(centre - least / 2.0))
            low = min(max(0, low), size - least)
            high = low + least
        box += [int(low), int(high)]
    return box


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run", help="a cluster job's output folder (alpha.npy, clusters.csv, result.json)")
    parser.add_argument("dataset", help="the dataset root the job ran on (clusters.csv's image paths are relative to it)")
    parser.add_argument("out", help="folder to write OUT/test/<label>/<stem>.png and crops.csv into")
    parser.add_argument("--top", type=int, default=8, help="q: the number of highest-scoring patches the box covers")
    parser.add_argument("--pad", type=int, default=1, help="patches of margin on each side")
    parser.add_argument("--min-side", type=float, default=0.25, help="least box side, as a fraction of the image side")
    args = parser.parse_args()
    result = json.load(open(os.path.join(args.run, "result.json")))
    tau = result["options"]["tau"]
    grid_h, grid_w = result["alphaGrid"]["height"], result["alphaGrid"]["width"]
    rows = list(csv.DictReader(open(os.path.join(args.run, "clusters.csv"), newline="")))
    alpha = np.load(os.path.join(args.run, "alpha.npy")).astype(np.float64)
    if len(rows) != len(alpha):
        raise SystemExit(f"{args.run}: {len(rows)} rows in clusters.csv, {len(alpha)} in alpha.npy")
    manifest = []
    for row, weights in zip(rows, alpha):
        scores = tau * np.log(weights)
        r0, r1, c0, c1 = crop_box(scores, grid_h, grid_w, args.top, args.pad, args.min_side)
        with Image.open(os.path.join(args.dataset, row["image"])) as image:
            image = image.convert("RGB")
            w, h = image.size
            box = (int(np.floor(c0 * w / grid_w)), int(np.floor(r0 * h / grid_h)),
                   int(np.ceil(c1 * w / grid_w)), int(np.ceil(r1 * h / grid_h)))
            crop = image.crop(box).resize((CROP_SIDE, CROP_SIDE), Image.BILINEAR)
        stem = os.path.splitext(os.path.basename(row["image"]))[0]
        folder = os.path.join(args.out, "test", row["label"])
        os.makedirs(folder, exist_ok=True)
        name = os.path.join("test", row["label"], stem + ".png")
        crop.save(os.path.join(args.out, name))
        manifest.append({"crop": name, "image": row["image"], "label": row["label"], "box": " ".join(map(str, box)),
                         "grid_box": f"{r0} {r1} {c0} {c1}"})
    with open(os.path.join(args.out, "crops.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(manifest[0]))
        writer.writeheader()
        writer.writerows(manifest)
    sides = np.array([[int(v) for v in m["grid_box"].split()] for m in manifest])
    area = ((sides[:, 1] - sides[:, 0]) * (sides[:, 3] - sides[:, 2])) / (grid_h * grid_w)
    print(f"{len(manifest)} crops in {args.out}; box area / image area: median {np.median(area):.3f}, "
          f"min {area.min():.3f}, max {area.max():.3f}")


if __name__ == "__main__":
    main()

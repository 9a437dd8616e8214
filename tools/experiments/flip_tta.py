#!/usr/bin/python3
"""Offline experiment (issue 13): test-time augmentation by flips.

`make` writes flipped copies of a dataset (every test and train image, as lossless PNG, the folder layout kept) so the
product runs on them unchanged (`anomaly-cluster cluster <copy> ...`). `average` then averages each image's x_i over
the identity run and the flipped runs, and writes the mean (for Ward) and its centred, unit-length form (for average
linkage, as centred_cosine.py) with a labels file, for the product's own clustering:
  anomaly-cluster cluster-vectors OUT/TAG.npy --labels OUT/TAG-labels.csv -k 6
  anomaly-cluster cluster-vectors OUT/TAG-cc.npy --labels OUT/TAG-labels.csv -k 6 --linkage average

Usage:
  /usr/bin/python3 tools/experiments/flip_tta.py make ../shared/data/magnetic_tile mt      # writes mt_h, mt_v, mt_hv
  /usr/bin/python3 tools/experiments/flip_tta.py average out/id out/h out/v out/hv --out vec --tag semi-id+h+v+hv
"""
import argparse
import csv
import os

import numpy as np

from bag_variants import centred_l2

FLIPS = {"h": ["FLIP_LEFT_RIGHT"], "v": ["FLIP_TOP_BOTTOM"], "hv": ["FLIP_LEFT_RIGHT", "FLIP_TOP_BOTTOM"]}


def make(source, prefix):
    from PIL import Image
    for name, transforms in FLIPS.items():
        for sub in ("test", "train"):
            for root, _, files in os.walk(os.path.join(source, sub)):
                out = os.path.join(f"{prefix}_{name}", os.path.relpath(root, source))
                os.makedirs(out, exist_ok=True)
                for f in files:
                    if not f.lower().endswith((".jpg", ".jpeg", ".png", ".bmp")):
                        continue
                    image = Image.open(os.path.join(root, f))
                    image.load()
                    for t in transforms:
                        image = image.transpose(getattr(Image, t))
                    image.save(os.path.join(out, os.path.splitext(f)[0] + ".png"))
        print(name, "written", flush=True)


def load_run(folder):
    """x_i and labels of a finished `cluster` run, keyed by image name without extension (the copies are PNG)."""
    with open(os.path.join(folder, "clusters.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.load(os.path.join(folder, "embeddings.npy")).astype(np.float64)
    keys = [os.path.splitext(r["image"])[0] for r in rows]
    return dict(zip(keys, x)), {k: r["label"] for k, r in zip(keys, rows)}


def average(runs, out, tag):
    reference, labels = load_run(runs[0])
    keys = sorted(reference)
    stack = [np.array([reference[k] for k in keys])]
    for run in runs[1:]:
        other, _ = load_run(run)
        missing = [k for k in keys if k not in other]
        if missing:
            raise SystemExit(f"{run} lacks {len(missing)} images of {runs[0]}, e.g. {missing[0]}")
        stack.append(np.array([other[k] for k in keys]))
    mean = np.mean(stack, axis=0)
    centred = centred_l2(mean)
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, f"{tag}.npy"), mean.astype(np.float32))
    np.save(os.path.join(out, f"{tag}-cc.npy"), centred.astype(np.float32))
    with open(os.path.join(out, f"{tag}-labels.csv"), "w") as f:
        f.write("id,label\n" + "".join(f"{i},{labels[k]}\n" for i, k in enumerate(keys)))
    print(tag, mean.shape)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make", help="write flipped copies <prefix>_h, _v, _hv of a dataset")
    m.add_argument("source")
    m.add_argument("prefix")
    a = sub.add_parser("average", help="average x_i over runs (the first one's images and labels)")
    a.add_argument("runs", nargs="+")
    a.add_argument("--out", required=True)
    a.add_argument("--tag", required=True)
    args = parser.parse_args()
    if args.command == "make":
        make(args.source, args.prefix)
    else:
        average(args.runs, args.out, args.tag)


if __name__ == "__main__":
    main()

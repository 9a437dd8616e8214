#!/usr/bin/python3
"""Recomputes a job's pixel AUROC and PRO outside the product, from its output folder and the dataset's masks.

    /usr/bin/python3 tools/experiments/pixel_metrics_check.py OUT_FOLDER DATASET_ROOT

OUT_FOLDER is a `cluster` or `eval` job folder (result.json, clusters.csv, alpha.npy); DATASET_ROOT the MVTec-layout
dataset with ground_truth/. The raw patch scores are not among the output files, so they are rebuilt from alpha and the
image score: alpha = softmax(s / tau), so s_k = S + tau (ln alpha_k - ln max alpha) with S = max_k s_k, the image's
anomaly score (exact up to float32 rounding of alpha). Maps are made and scored by the reference functions of
tools/fixtures/gen_pixel_detection.py (PyTorch-style bilinear, scipy.ndimage.gaussian_filter, scikit-learn's
roc_auc_score, the MVTec AD PRO code), with PIL reading the masks (Debian's python3-pil), and compared with result.json.
"""
import csv
import json
import os
import sys

import numpy as np
from PIL import Image
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from gen_pixel_detection import anomaly_map, au_pro  # noqa: E402

SIGMA_INPUT_PIXELS = 4.0
DEFECT_LEVEL = 128


def mask_path(root, label, image_path):
    stem = os.path.splitext(os.path.basename(image_path))[0]
    for name in (f"{stem}.png", f"{stem}_mask.png"):
        path = os.path.join(root, "ground_truth", label, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"no mask for {image_path}")


def main(out_folder, root):
    result = json.load(open(os.path.join(out_folder, "result.json")))
    tau = result["options"]["tau"]
    grid_h, grid_w = result["alphaGrid"]["height"], result["alphaGrid"]["width"]
    crop_h = result["source"]["preprocessing"]["cropHeight"]
    crop_w = result["source"]["preprocessing"]["cropWidth"]
    rows = list(csv.DictReader(open(os.path.join(out_folder, "clusters.csv"))))
    alpha = np.load(os.path.join(out_folder, "alpha.npy")).astype(np.float64)
    maps, masks = [], []
    for row, weights in zip(rows, alpha):
        scores = float(row["anomaly_score"]) + tau * (np.log(weights) - np.log(weights.max()))
        if row["label"] == "good":
            with Image.open(os.path.join(root, row["image"])) as image:
                w, h = image.size
            mask = np.zeros((h, w), bool)
        else:
            with Image.open(mask_path(root, row["label"], row["image"])) as image:
                mask = np.array(image.convert("L")) >= DEFECT_LEVEL
            h, w = mask.shape
        amap = anomaly_map(scores.reshape(grid_h, grid_w).astype(np.float32), h, w,
                           SIGMA_INPUT_PIXELS * h / crop_h, SIGMA_INPUT_PIXELS * w / crop_w)
        maps.append(amap)
        masks.append(mask)
    truth = np.concatenate([m.ravel() for m in masks])
    scores = np.concatenate([m.ravel() for m in maps])
    pixel_auroc = roc_auc_score(truth, scores)
    del truth, scores
    pro = au_pro(maps, masks, 0.3)
    stored = result["detection"]
    print(f"{out_folder}: {len(rows)} images, {sum(m.size for m in masks)} pixels")
    print(f"  pixel AUROC  here {pixel_auroc:.6f}  result.json {stored['pixelAuroc']:.6f}  difference {pixel_auroc - stored['pixelAuroc']:+.2e}")
    print(f"  PRO (0.3)    here {pro:.6f}  result.json {stored['pro']:.6f}  difference {pro - stored['pro']:+.2e}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/python3
"""Offline experiment (issue 13, session 11): semi-supervised clustering with the normal images as anchors.

A semi-supervised job knows what `good` looks like, but clusters only the test images, and on magnetic tile its good
images merge with `uneven` ones. Here the job's own normal images (the seeded --normal-limit subset, whose bags the
product cached in --store) get embeddings x_j the same way as test images, each scored against the bank of the other
normal images (leave-one-out, as the product's detection threshold scores them). Test and normal embeddings are then
clustered together (centred on their joint mean, unit length, the chosen methods) into K, and only the test images'
clusters are scored, so a dense `good` group is present for the clustering to find. Label-free: the normal images are
an input of every semi-supervised job.

Usage: /usr/bin/python3 tools/experiments/normal_anchors.py ../shared/data/magnetic_tile --store S --run out/mt-semi \
           --cache C [--methods average ward-over4-average] [--copies 1]
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bag_variants import (backbone_identity, centred_l2, embed, hungarian_f1, load_bags, load_dataset, nearest,
                          select_normals, softmax)
from clusterers import cluster


def leave_one_out_scores(normal_bags):
    """s_jk of each normal image: distance of each patch to the nearest patch of the other normal images."""
    tensors = [torch.from_numpy(b) for b in normal_bags]
    scores = []
    started = time.time()
    for j in range(len(tensors)):
        bank = torch.cat([t for i, t in enumerate(tensors) if i != j])
        scores.append(nearest(normal_bags[j], bank, (bank * bank).sum(1), 1)[:, 0])
        if (j + 1) % 16 == 0:
            print(f"  {j + 1} / {len(tensors)} normal images scored ({time.time() - started:.0f} s)", file=sys.stderr, flush=True)
    return np.stack(scores)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("--store", required=True)
    parser.add_argument("--run", required=True, help="the semi-supervised product run (its alpha.npy gives the test images' s_ik)")
    parser.add_argument("--cache", required=True)
    parser.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "../../../shared/models/resnet50_imagenet_layer2_layer3.onnx"))
    parser.add_argument("--methods", nargs="+", default=["ward", "average", "ward-over4-average"])
    parser.add_argument("--copies", type=int, nargs="+", default=[1], help="each normal embedding enters the clustering this many times (its weight)")
    parser.add_argument("--tau", type=float, default=0.3)
    parser.add_argument("--normal-limit", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.cache, exist_ok=True)
    identity = backbone_identity(args.model, ["layer2", "layer3"])
    images, truth, normals = load_dataset(args.dataset)
    k = len(set(truth))
    bags = load_bags(args.store, images, identity)
    chosen = select_normals(len(normals), args.normal_limit, args.seed)
    normal_bags = load_bags(args.store, [normals[i] for i in chosen], identity)
    name = os.path.basename(os.path.normpath(args.dataset))
    path = os.path.join(args.cache, f"{name}-normals-loo-n{args.normal_limit}-s{args.seed}.npy")
    if not os.path.exists(path):
        np.save(path, leave_one_out_scores(normal_bags))
    normal_s = np.load(path)
    s = args.tau * np.log(np.load(os.path.join(args.run, "alpha.npy")).astype(np.float64))
    x = embed(bags, softmax(s, args.tau)).astype(np.float64)
    xn = embed(normal_bags, softmax(normal_s, args.tau)).astype(np.float64)
    n = len(x)
    for method in args.methods:
        for label, data in [("test only", centred_l2(x))] + [
                (f"with {len(xn)} normal anchors" + (f" x {c}" if c > 1 else ""), centred_l2(np.concatenate([x] + [xn] * c)))
                for c in args.copies]:
            pred = cluster(data, k, method)
            if pred is None:
                print(f"| {name} | {label} | {method} | - | - | - |")
                continue
            pred = pred[:n]
            print(f"| {name} | {label} | {method} | %.3f | %.3f | %.3f |" % (
                normalized_mutual_info_score(truth, pred), adjusted_rand_score(truth, pred), hungarian_f1(truth, pred)), flush=True)


if __name__ == "__main__":
    main()

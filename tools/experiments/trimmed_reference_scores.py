#!/usr/bin/python3
"""Offline experiment (issue 13): robust unsupervised patch scores.

METHOD section 2 scores a patch by the mean, over the R reference images, of its distance to each reference's nearest
patch. A reference that shows the same defect (magnetic tile photographs one tile region up to six times) gives that
patch a near-zero distance and pulls its score down. This script keeps the R per-reference distances of every patch
(the product's seeded reference sample, bag_variants.py's exact distances) and compares the mean with the mean after
dropping the 1, 2 or 4 smallest, and the median, at the default tau; Ward on x_i and centred cosine + average linkage.

Usage: /usr/bin/python3 tools/experiments/trimmed_reference_scores.py ../shared/data/magnetic_tile --store S --cache DIR
"""
import argparse
import os

import numpy as np
import torch

from bag_variants import (backbone_identity, centred_l2, evaluate, load_bags, load_dataset, nearest, reference_partners,
                          reference_pool)


def per_reference_distances(bags, refs, seed):
    pool, r = reference_pool(len(bags), refs, seed)
    tensors = [torch.from_numpy(b) for b in bags]
    squares = [(t * t).sum(1) for t in tensors]
    distances = np.zeros((len(bags), bags[0].shape[0], r))
    for i in range(len(bags)):
        for q, j in enumerate(reference_partners(pool, i, r)):
            distances[i, :, q] = nearest(bags[i], tensors[j], squares[j], 1)[:, 0]
    return distances


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("--store", required=True)
    parser.add_argument("--cache", required=True)
    parser.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "../../../shared/models/resnet50_imagenet_layer2_layer3.onnx"))
    parser.add_argument("--refs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tau", type=float, default=0.3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    images, truth, _ = load_dataset(args.dataset)
    k = len(set(truth))
    bags = load_bags(args.store, images, backbone_identity(args.model, ["layer2", "layer3"]))
    os.makedirs(args.cache, exist_ok=True)
    path = os.path.join(args.cache, f"{os.path.basename(os.path.normpath(args.dataset))}-unsup-per-reference-r{args.refs}-s{args.seed}.npy")
    if not os.path.exists(path):
        np.save(path, per_reference_distances(bags, args.refs, args.seed))
    distances = np.load(path)
    ascending = np.sort(distances, axis=2)
    for name, s in (("mean (METHOD)", distances.mean(2)), ("drop the smallest 1", ascending[:, :, 1:].mean(2)),
                    ("drop the smallest 2", ascending[:, :, 2:].mean(2)), ("drop the smallest 4", ascending[:, :, 4:].mean(2)),
                    ("median", np.median(distances, 2))):
        logits = s / args.tau
        alpha = np.exp(logits - logits.max(axis=1, keepdims=True))
        alpha /= alpha.sum(axis=1, keepdims=True)
        x = np.stack([a @ b.astype(np.float64) for a, b in zip(alpha, bags)])
        ward = evaluate(x, truth, k, "ward")
        cosine = evaluate(centred_l2(x), truth, k, "average")
        print(f"| {name} | {' / '.join(f'{v:.3f}' for v in ward)} | {' / '.join(f'{v:.3f}' for v in cosine)} |", flush=True)


if __name__ == "__main__":
    main()

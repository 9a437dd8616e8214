#!/usr/bin/python3
"""Offline experiment (issue 13): weights from the default patch embeddings, x_i pooled from richer ones.

The patch scores s_ik (and so alpha) need the nearest-patch search, whose cost grows with the patch dimension T; the
image embedding x_i = sum_k alpha_ik z_ik does not. This script takes alpha from a product run at the default T = 256
(its alpha.npy; another tau by alpha' = softmax(tau_0 log alpha / tau), exact because the softmax is invertible up to a
per-image constant) and pools bags of the same images cached at a larger T (an `anomaly-cluster cluster --mode average
--target-dim T --store S` run, no scoring), then clusters x_i with Ward and with centred cosine + average linkage and
prints NMI / ARI / F1 (METHOD section 5, bag_variants.py's metrics). With --target-dim 256 and the default store it
must reproduce the run's own figures (the check that this is the product's path).

Usage:
  /usr/bin/python3 tools/experiments/rich_pooling.py ../shared/data/magnetic_tile --store S --alpha-from out/mt-semi \
      --target-dims 256 1024 2048 --taus 0.3 0.35 [--export DIR]
"""
import argparse
import os

import numpy as np

from bag_variants import backbone_identity, bag_path, centred_l2, evaluate, load_dataset, read_bag


def pooled(store, images, identity, t, alpha):
    x = np.empty((len(images), 0))
    for i, image in enumerate(images):
        path = bag_path(store, image, identity, t=t)
        if not os.path.exists(path):
            raise SystemExit(f"no cached bag at T = {t} for {image}: run `anomaly-cluster cluster ... --mode average "
                             f"--target-dim {t} --store {store}` over the dataset first")
        bag = read_bag(path).astype(np.float64)
        if x.shape[1] == 0:
            x = np.empty((len(images), bag.shape[1]))
        x[i] = alpha[i] @ bag
    return x


def retemper(alpha, tau0, tau):
    logits = tau0 * np.log(alpha) / tau
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("--store", required=True, help="the --store of the runs that cached the bags")
    parser.add_argument("--alpha-from", required=True, help="a product run's output folder with alpha.npy")
    parser.add_argument("--run-tau", type=float, default=0.3, help="the tau of that run")
    parser.add_argument("--taus", type=float, nargs="+", default=[0.3])
    parser.add_argument("--target-dims", type=int, nargs="+", default=[256, 1024, 2048])
    parser.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "../../../shared/models/resnet50_imagenet_layer2_layer3.onnx"))
    parser.add_argument("--export", help="folder for each row's x_i (.npy) and labels.csv, for `cluster-vectors`")
    args = parser.parse_args()
    images, truth, _ = load_dataset(args.dataset)
    k = len(set(truth))
    alpha = np.load(os.path.join(args.alpha_from, "alpha.npy")).astype(np.float64)
    if alpha.shape[0] != len(images):
        raise SystemExit(f"{args.alpha_from}/alpha.npy has {alpha.shape[0]} rows, the dataset {len(images)} test images")
    identity = backbone_identity(args.model, ["layer2", "layer3"])
    run = os.path.basename(os.path.normpath(args.alpha_from))
    if args.export:
        os.makedirs(args.export, exist_ok=True)
        with open(os.path.join(args.export, "labels.csv"), "w") as f:
            f.write("id,label\n" + "".join(f"{i},{label}\n" for i, label in enumerate(truth)))
    print("| alpha from | T of x_i | tau | Ward NMI / ARI / F1 | centred cosine + average NMI / ARI / F1 |")
    print("|---|---|---|---|---|")
    for t in args.target_dims:
        for tau in args.taus:
            x = pooled(args.store, images, identity, t, retemper(alpha, args.run_tau, tau))
            ward = evaluate(x, truth, k, "ward")
            cosine = evaluate(centred_l2(x), truth, k, "average")
            if args.export:
                np.save(os.path.join(args.export, f"{run}-T{t}-tau{tau}.npy"), x.astype(np.float32))
            print(f"| {run} | {t} | {tau} | {' / '.join(f'{v:.3f}' for v in ward)} | {' / '.join(f'{v:.3f}' for v in cosine)} |", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Offline sweep of clustering variants (issue 13) on patch bags that `anomaly-cluster cluster --store S` cached.

The backbone pass is the expensive part, so it runs once per dataset through the product (its feature cache keeps
every image's bag Z_i, 784 x T float32, PatchBagFormat). This script finds each image's bag by the product's own cache
key (FeatureCacheKey: SHA-256 of the image bytes, the backbone identity, the embedding settings), recomputes the
patch scores s_ik, alpha and x_i as METHOD sections 2-3 and Core do (the same seeded reference sample and normal
subset as the product: SplitMix64 partial Fisher-Yates), then Ward into K and NMI / ARI / F1 as METHOD section 5.
Variants change one step at a time; the first row of every table is the product's default, which must reproduce the
figures of docs/RESULTS.md (that is the check that this offline path is the product's).

Nearest-patch distances: squared distances by one float32 matrix product, the nearest index taken from them, and
that distance recomputed exactly in float64 (the product's exact distances); the k smallest are kept for k-NN variants.
Scores are cached in --cache as .npy so that variants of the pooling reuse one scoring pass.

Usage (docs/RESULTS.md, "Issue 13 clustering acceptance", has the commands behind every figure):
  /usr/bin/python3 tools/experiments/bag_variants.py ../shared/data/magnetic_tile --store /work/cache8/store --cache /work/cache8/scores
      [--modes semi-supervised unsupervised] [--variants default l2 ...] [--linkages ward average complete]
      [--alpha-from RUN] [--normal-embeddings RUN/embeddings.npy] [--concat-embeddings RUN/embeddings.npy]
      [--normal-limit 64] [--coreset 0.01] [--knn 3] [--refs 16]
"""
import argparse
import hashlib
import os
import struct
import sys
import time

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from clusterers import cluster

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
MASK64 = (1 << 64) - 1


# ---- the product's cache key and bag format -------------------------------------------------------------------

def backbone_identity(model_path, outputs, resize_mode="Stretch"):
    """BackboneDescription.IdentityText: model hash, input, outputs, preprocessing canonical text."""
    with open(model_path, "rb") as f:
        model_sha = hashlib.sha256(f.read()).hexdigest()
    text = ("anomaly-clustering-backbone-identity/1\n"
            f"model-sha256={model_sha}\n"
            "input=input\n"
            f"outputs={chr(0x1f).join(outputs)}\n"
            f"preprocessing=mode={resize_mode};resize=256;crop=224x224;mean=0.485,0.456,0.406;std=0.229,0.224,0.225\n")
    return hashlib.sha256(text.encode()).hexdigest()


def bag_path(store, image_path, identity, layer_norm=True, p=1024, t=256, k=3, max_side=8192):
    """ImageGrain's key: the backbone identity carries the decoder's size limit (the CLI's --max-image-dimension)."""
    with open(image_path, "rb") as f:
        image_sha = hashlib.sha256(f.read()).hexdigest()
    identity = f"{identity}|max-side {max_side}"
    settings = f"layerNorm={'true' if layer_norm else 'false'};P={p};T={t};k={k}"
    text = f"anomaly-clustering feature cache v1\nimage-sha256={image_sha}\nbackbone={identity}\nembedding={settings}\n"
    h = hashlib.sha256(text.encode()).hexdigest()
    return os.path.join(store, "blobs", "features", "v1", h[:2], h + ".bag")


def read_bag(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())  # writable, so torch can wrap the array without a copy
    if data[:4] != b"ACPB":
        raise ValueError(f"{path}: not a patch bag")
    h, w, t = struct.unpack_from("<iii", data, 8)
    return np.frombuffer(data, dtype="<f4", count=h * w * t, offset=32).reshape(h * w, t)


# ---- the dataset, in the product's order ------------------------------------------------------------------------

def list_images(folder):
    return sorted((os.path.join(folder, n) for n in os.listdir(folder)
                   if os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS), key=lambda p: os.path.basename(p).encode())


def load_dataset(root):
    """Test images class by class (ordinal order of class and file names) and train/good, as ImageDatasetLayout lists them."""
    test = os.path.join(root, "test")
    classes = sorted((c for c in os.listdir(test) if os.path.isdir(os.path.join(test, c))), key=str.encode)
    images, labels = [], []
    for c in classes:
        for p in list_images(os.path.join(test, c)):
            images.append(p)
            labels.append(c)
    normal_dir = os.path.join(root, "train", "good")
    normals = list_images(normal_dir) if os.path.isdir(normal_dir) else []
    return images, np.array(labels), normals


# ---- the product's seeded choices ---------------------------------------------------------------------------------

class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def next_below(self, bound):
        product = self.next() * bound
        high, low = product >> 64, product & MASK64
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                product = self.next() * bound
                high, low = product >> 64, product & MASK64
        return high


def reference_pool(n, r, seed):
    """ReferenceSample.Draw: the first min(r, n-1) + 1 entries of a seeded partial Fisher-Yates shuffle."""
    effective = n - 1 if r == 0 else min(r, n - 1)
    order = list(range(n))
    random = SplitMix64(seed)
    for t in range(min(effective + 1, n - 1)):
        j = t + random.next_below(n - t)
        order[t], order[j] = order[j], order[t]
    return order[:effective + 1], effective


def select_normals(count, limit, seed):
    if limit == 0 or count <= limit:
        return list(range(count))
    pool, _ = reference_pool(count, limit, seed)
    return sorted(pool[:limit])


# ---- nearest patches ----------------------------------------------------------------------------------------------

def inner_products(q, bank):
    """q @ bank.T through oneDNN (a 1 x 1 convolution): Debian's torch and numpy link the reference BLAS, about 16 times
    slower at this product on this machine (0.5 s against 8 s for 784 x 50,176 x 256)."""
    return torch.nn.functional.conv2d(q.T[None, :, :, None].contiguous(), bank[:, :, None, None])[0, :, :, 0].T


def nearest(query, bank, bank_sq, k, with_index=False):
    """The k smallest Euclidean distances of each query patch to the bank's patches, ascending, float64 (and the nearest's index).
    Candidates come from float32 squared distances (queries in chunks, so that a large bank's distance matrix stays
    near 200 M entries); their distances are recomputed exactly in float64 and sorted."""
    q = torch.from_numpy(query)
    rows = max(1, 200_000_000 // len(bank))
    idx = torch.cat([torch.topk((c * c).sum(1, keepdim=True) + bank_sq[None, :] - 2.0 * inner_products(c, bank),
                                k, dim=1, largest=False).indices for c in torch.split(q, rows)])
    exact = ((q.double()[:, None, :] - bank[idx].double()) ** 2).sum(-1).sqrt()
    order = torch.argsort(exact, dim=1)
    distances = torch.gather(exact, 1, order).numpy()
    return (distances, torch.gather(idx, 1, order)[:, 0].numpy()) if with_index else distances


def semi_scores(bags, bank, k):
    """N x M x k distances to the k nearest bank patches, and N x M indices of the nearest (for residual variants)."""
    bank = torch.from_numpy(bank)
    bank_sq = (bank * bank).sum(1)
    results = []
    started = time.time()
    for i, b in enumerate(bags):
        results.append(nearest(b, bank, bank_sq, k, with_index=True))
        if (i + 1) % 50 == 0:
            print(f"  {i + 1} / {len(bags)} images scored against {len(bank)} patches ({time.time() - started:.0f} s)", file=sys.stderr, flush=True)
    return np.stack([r[0] for r in results]), np.stack([r[1] for r in results])


def reference_partners(pool, i, r):
    """ReferencesFor: the first r images of the pool that are not i, in index order."""
    return sorted([m for m in pool if m != i][:r])


def unsup_scores(bags, refs, seed):
    pool, r = reference_pool(len(bags), refs, seed)
    tensors = [torch.from_numpy(b) for b in bags]
    squares = [(t * t).sum(1) for t in tensors]
    scores = np.zeros((len(bags), bags[0].shape[0]))
    for i in range(len(bags)):
        for j in reference_partners(pool, i, r):
            scores[i] += nearest(bags[i], tensors[j], squares[j], 1)[:, 0]
        scores[i] /= r
    return scores


def greedy_coreset(rows, size, seed, projection=128, starts=10):
    """PatchCore's approximate greedy k-centre coreset (as NormalBankCoreset: random projection to 128 dimensions,
    distances to 10 random starting points averaged as the initial minimum distances). Not bit-equal to Core's
    (torch's generator, not SplitMix64), the same algorithm."""
    generator = torch.Generator().manual_seed(seed)
    features = torch.from_numpy(rows)
    bound = 1.0 / np.sqrt(rows.shape[1])
    features = features @ ((torch.rand(rows.shape[1], projection, generator=generator) * 2 - 1) * bound)
    start = torch.randperm(len(rows), generator=generator)[:starts]
    distance = torch.cdist(features, features[start]).mean(1)
    chosen = []
    for _ in range(size):
        best = int(torch.argmax(distance))
        chosen.append(best)
        distance = torch.minimum(distance, (features - features[best]).square().sum(1).sqrt())
    return np.array(chosen)


# ---- embedding, clustering, metrics ---------------------------------------------------------------------------------

def softmax(s, tau):
    z = np.exp((s - s.max(axis=1, keepdims=True)) / tau)
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


def embed(bags, alpha):
    return np.stack([(a.astype(np.float64) @ b.astype(np.float64)) for a, b in zip(alpha, bags)]).astype(np.float32)


def hungarian_f1(truth, pred):
    table = contingency_matrix(truth, pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return table[rows, cols].sum() / len(truth)


def evaluate(x, truth, k, method="ward"):
    """NMI / ARI / F1 of x cut into K by `method` (clusterers.cluster: a SciPy linkage name or a session-11 method)."""
    pred = cluster(x, k, method)
    if pred is None:
        return float("nan"), float("nan"), float("nan")
    return normalized_mutual_info_score(truth, pred), adjusted_rand_score(truth, pred), hungarian_f1(truth, pred)


def load_bags(store, paths, identity):
    bags = []
    for p in paths:
        path = bag_path(store, p, identity)
        if not os.path.exists(path):
            raise SystemExit(f"no cached bag for {p} ({path}): run `anomaly-cluster cluster ... --store {store}` over it first")
        bags.append(read_bag(path))
    return bags


def cached(path, compute):
    if os.path.exists(path):
        return np.load(path)
    started = time.time()
    value = compute()
    np.save(path, value)
    print(f"  computed {os.path.basename(path)} in {time.time() - started:.0f} s", file=sys.stderr)
    return value


# ---- the variants -------------------------------------------------------------------------------------------------
# Each takes (bags, s: N x M patch scores, tau) and returns x: N x T. `s` is the k = 1 score unless the variant's
# name says otherwise (the k-NN variants are picked in main, where the scores are).

def pool_softmax(bags, s, tau):
    return embed(bags, softmax(s, tau))


def pool_standardised(bags, s, tau):
    """Softmax of each image's scores standardised to mean 0, sd 1: the weights no longer depend on the score scale."""
    z = (s - s.mean(axis=1, keepdims=True)) / s.std(axis=1, keepdims=True)
    return embed(bags, softmax(z, tau))


def pool_top(count):
    def pool(bags, s, tau):
        alpha = np.zeros_like(s, dtype=np.float32)
        top = np.argsort(-s, axis=1)[:, :count]
        np.put_along_axis(alpha, top, 1.0 / count, axis=1)
        return embed(bags, alpha)
    return pool


def pool_minus_mean(bags, s, tau):
    """The weighted mean less the image's own uniform mean: what the anomalous patches add to the image's background."""
    return pool_softmax(bags, s, tau) - np.stack([b.mean(axis=0) for b in bags])


def pool_concat_mean(weight):
    def pool(bags, s, tau):
        return np.concatenate([pool_softmax(bags, s, tau), weight * np.stack([b.mean(axis=0) for b in bags])], axis=1)
    return pool


def l2(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def pca_whiten(components):
    def transform(x):
        centred = x - x.mean(axis=0)
        u, sv, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
        return u[:, :components] * np.sqrt(len(x))
    return transform


def pca(components):
    def transform(x):
        centred = x - x.mean(axis=0)
        u, sv, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
        return u[:, :components] * sv[:components]
    return transform


def centred_l2(x):
    return l2(x - x.mean(axis=0))


NORMAL_X = {}  # filled in main from --normal-embeddings: the normal images' uniform-mean embeddings (N_n x T)


def normal_whiten(shrink):
    """Mahalanobis by the normal images' variation: x' = (C + shrink * mean eigenvalue * I)^(-1/2) (x - mean of normals)."""
    def transform(x):
        normal = NORMAL_X["x"].astype(np.float64)
        values, vectors = np.linalg.eigh(np.cov(normal, rowvar=False))
        values = values + shrink * values.mean()
        return ((x - normal.mean(axis=0)) @ vectors) / np.sqrt(values)
    return transform


def normal_project_out(count):
    """x less its part in the span of the normal images' `count` leading principal directions (nuisance variation)."""
    def transform(x):
        normal = NORMAL_X["x"].astype(np.float64)
        _, _, vt = np.linalg.svd(normal - normal.mean(axis=0), full_matrices=False)
        basis = vt[:count]
        return x - (x @ basis.T) @ basis
    return transform


OTHER_X = {}  # filled in main from --concat-embeddings: another backbone's x_i of the same images, same order


def concat_other(weight):
    """[x, w * x'] with x' another run's embeddings, each scaled to mean norm 1 so that neither dominates by scale."""
    def transform(x):
        other = OTHER_X["x"].astype(np.float64)
        unit = lambda v: v / np.linalg.norm(v, axis=1).mean()
        return np.concatenate([unit(x), weight * unit(other)], axis=1)
    return transform


# name -> (pooling, post-transform or None, tau multiplier or absolute tau)
VARIANTS = {
    "default": (pool_softmax, None),
    "l2": (pool_softmax, l2),
    "centred-l2": (pool_softmax, centred_l2),
    "pca32": (pool_softmax, pca(32)),
    "pca-whiten16": (pool_softmax, pca_whiten(16)),
    "pca-whiten32": (pool_softmax, pca_whiten(32)),
    "pca-whiten64": (pool_softmax, pca_whiten(64)),
    "top1": (pool_top(1), None),
    "top4": (pool_top(4), None),
    "top16": (pool_top(16), None),
    "top64": (pool_top(64), None),
    "standardised-tau0.5": (pool_standardised, None),
    "standardised-tau1": (pool_standardised, None),
    "standardised-tau2": (pool_standardised, None),
}
VARIANTS.update({f"normal-whiten{e}": (pool_softmax, normal_whiten(e)) for e in (0.01, 0.1, 1.0)})
VARIANTS.update({f"normal-project-out{q}": (pool_softmax, normal_project_out(q)) for q in (2, 4, 8, 16)})
VARIANTS.update({f"centred-l2-tau{t}": (pool_softmax, centred_l2) for t in (0.2, 0.25, 0.35, 0.4, 0.5)})
VARIANTS.update({f"concat-other{w}": (pool_softmax, concat_other(w)) for w in (0.5, 1.0, 2.0)})
VARIANTS.update({"minus-mean": (pool_minus_mean, None), "concat-mean0.5": (pool_concat_mean(0.5), None),
                 "concat-mean1": (pool_concat_mean(1.0), None)})
VARIANTS.update({f"softmax-tau{t}": (pool_softmax, None) for t in (0.2, 0.4, 0.25, 0.275, 0.325, 0.35)})
VARIANTS.update({f"standardised-tau{t}": (pool_standardised, None) for t in (0.1, 0.2, 0.3)})
# Semi-supervised only: the same pooling of z_ik - (its nearest normal patch), what makes the patch unlike normal.
VARIANTS.update({"residual-" + name: value for name, value in list(VARIANTS.items())})


def variant_tau(name, tau):
    return float(name.rsplit("tau", 1)[1]) if "-tau" in name else tau


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", help="MVTec-layout folder (test/<class>/, train/good/)")
    parser.add_argument("--store", required=True, help="the --store folder of the runs that embedded the images")
    parser.add_argument("--cache", required=True, help="folder for the patch-score arrays")
    parser.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "../../../shared/models/resnet50_imagenet_layer2_layer3.onnx"))
    parser.add_argument("--modes", nargs="+", default=["semi-supervised", "unsupervised"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--linkages", nargs="+", default=["ward"], help="SciPy linkage methods (Euclidean) or clusterers.py methods (average-fold0.02, spectral-nn10, ...)")
    parser.add_argument("--tau", type=float, default=0.3)
    parser.add_argument("--refs", type=int, default=16)
    parser.add_argument("--normal-limit", type=int, default=64)
    parser.add_argument("--coreset", type=float, default=0, help="semi-supervised: keep this fraction of the normal patches (greedy k-centre); 0 = all")
    parser.add_argument("--knn", type=int, default=1, help="semi-supervised: s_ik = mean of the k nearest normal patches")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha-from", help="a product run's output folder (same dataset, mode, tau): s_ik from its alpha.npy "
                        "(s_ik = tau log alpha_ik + c_i: the softmax is invertible up to a per-image constant, which no variant here "
                        "depends on) instead of scoring again")
    parser.add_argument("--normal-embeddings", help="embeddings.npy of an average-mode run over the normal images (normal-* variants)")
    parser.add_argument("--concat-embeddings", help="embeddings.npy of another run over the same images (concat-other* variants)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.cache, exist_ok=True)
    if args.concat_embeddings:
        OTHER_X["x"] = np.load(args.concat_embeddings)
    if args.normal_embeddings:
        NORMAL_X["x"] = np.load(args.normal_embeddings)
    name = os.path.basename(os.path.normpath(args.dataset))
    identity = backbone_identity(args.model, ["layer2", "layer3"])
    images, truth, normals = load_dataset(args.dataset)
    k = len(set(truth))
    bags = load_bags(args.store, images, identity)
    print(f"{name}: {len(images)} images, K = {k}, {len(normals)} normal images", file=sys.stderr)
    for mode in args.modes:
        if args.alpha_from:
            s = args.tau * np.log(np.load(os.path.join(args.alpha_from, "alpha.npy")).astype(np.float64))
            residual_bags = None
            setting = f"s from {os.path.basename(os.path.normpath(args.alpha_from))}"
        elif mode == "semi-supervised":
            chosen = select_normals(len(normals), args.normal_limit, args.seed)
            normal_bags = load_bags(args.store, [normals[i] for i in chosen], identity)
            tag = f"{name}-semi-n{args.normal_limit}-c{args.coreset}-s{args.seed}"
            bank = np.concatenate(normal_bags)
            if args.coreset > 0:
                started = time.time()
                keep = cached(os.path.join(args.cache, tag + "-coreset.npy"), lambda: greedy_coreset(bank, int(len(bank) * args.coreset), args.seed))
                bank = bank[keep]
                print(f"  coreset of {len(bank)} patches ({time.time() - started:.0f} s)", file=sys.stderr)
            path = os.path.join(args.cache, tag)
            if not os.path.exists(path + "-index.npy"):
                started = time.time()
                knn, index = semi_scores(bags, bank, 5)
                np.save(path + ".npy", knn)
                np.save(path + "-index.npy", index)
                print(f"  scored {tag} in {time.time() - started:.0f} s", file=sys.stderr)
            knn, index = np.load(path + ".npy"), np.load(path + "-index.npy")
            s = knn[:, :, :args.knn].mean(axis=2)
            residual_bags = [b - bank[i] for b, i in zip(bags, index)]
            setting = f"normal {args.normal_limit or 'all'}" + (f", coreset {args.coreset}" if args.coreset else "") + f", k {args.knn}"
        elif mode == "unsupervised":
            tag = f"{name}-unsup-r{args.refs}-s{args.seed}"
            s = cached(os.path.join(args.cache, tag + ".npy"), lambda: unsup_scores(bags, args.refs, args.seed))
            setting = f"R {args.refs}"
            residual_bags = None
        else:
            s = np.zeros((len(bags), bags[0].shape[0]))
            residual_bags = None
            setting = "uniform"
        for variant in args.variants:
            pooling, transform = VARIANTS[variant.removeprefix("residual-")]
            if variant.startswith("residual-") and residual_bags is None:
                continue
            source = residual_bags if variant.startswith("residual-") else bags
            x = pooling(source, s, variant_tau(variant, args.tau)) if mode != "average" else embed(bags, softmax(s, 1.0))
            if transform is not None:
                x = transform(x)
            for method in args.linkages:
                nmi, ari, f1 = evaluate(x, truth, k, method)
                label = variant if method == "ward" else f"{variant}, {method} linkage"
                print(f"| {name} | {mode} | {setting} | {label} | {nmi:.3f} | {ari:.3f} | {f1:.3f} |", flush=True)


if __name__ == "__main__":
    main()

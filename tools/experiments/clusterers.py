"""Label-free ways to cut image embeddings into K clusters (issue 13, session 11), beyond SciPy's plain linkages.

Every method takes x (N x D, already post-processed, e.g. centred cosine) and K and returns N cluster ids; none looks at
labels, and each fixed choice (minimum size, neighbour count, seeds) is a constant, not tuned per dataset. Names:
  ward | average | complete | single        SciPy linkage on Euclidean x, cut into K (maxclust), as before;
  <linkage>-fold<f>                          the same tree cut at the fewest clusters among which K have at least
                                             f x N members ("large"); every smaller cluster is then folded, whole, into
                                             the large cluster at the smallest mean pairwise distance (the average-
                                             linkage criterion), so the K clusters are K large ones, not K - j large
                                             ones and j outliers;
  <linkage>-kmeans                           k-means (Lloyd) started from that linkage's K centroids (a refinement);
  <linkage>-fold<f>-kmeans                   the same from the folded clusters' centroids;
  kmeans                                     k-means, 50 k-means++ starts (seed 0), the lowest inertia kept;
  spherical-kmeans                           k-means on the unit sphere (centroids renormalised, cosine similarity),
                                             50 k-means++ starts (seed 0), the highest total similarity kept;
  ward-over<m>-average                       Ward cut into m x K clusters, which average linkage (mean pairwise
                                             distance of their members) then merges into K: Ward's compact groups
                                             without its pull towards equal sizes at the top of the tree;
  spectral-nn<n>                             scikit-learn SpectralClustering, symmetrised n-nearest-neighbour graph,
                                             cluster_qr labels (no random restarts), seed 0.
"""
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import cdist

LINKAGES = ("ward", "average", "complete", "single")


def cut_large(tree, k, minimum):
    """The labels of the fewest-cluster cut with K clusters of at least `minimum` members, and those K ids.
    Each step of maxclust splits one cluster, so the count of large clusters grows by at most one per step and the
    first cut that reaches K has exactly K."""
    n = len(tree) + 1
    for count in range(k, n + 1):
        labels = fcluster(tree, count, criterion="maxclust")
        ids, sizes = np.unique(labels, return_counts=True)
        large = ids[sizes >= minimum]
        if len(large) >= k:
            return labels, large
    return None, None  # average linkage can chain: no cut of its tree may have K large clusters


def fold_small(x, labels, large):
    """Each cluster not in `large` joins, whole, the large cluster at the smallest mean pairwise Euclidean distance."""
    folded = labels.copy()
    members = {c: x[labels == c] for c in large}
    for c in np.setdiff1d(np.unique(labels), large):
        small = x[labels == c]
        distances = [cdist(small, members[g]).mean() for g in large]
        folded[labels == c] = large[int(np.argmin(distances))]
    return np.searchsorted(large, folded) + 1


def lloyd(x, centres, iterations=300):
    """Plain k-means from the given centres (deterministic): assign to the nearest centre, move centres to the means."""
    labels = None
    for _ in range(iterations):
        new = cdist(x, centres, "sqeuclidean").argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centres = np.stack([x[labels == c].mean(axis=0) if (labels == c).any() else centres[c] for c in range(len(centres))])
    return labels + 1


def centroids(x, labels):
    return np.stack([x[labels == c].mean(axis=0) for c in np.unique(labels)])


def spherical_kmeans(x, k, starts=50, seed=0, iterations=300):
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    random = np.random.default_rng(seed)
    best, best_score = None, -np.inf
    for _ in range(starts):
        # k-means++ seeding on cosine distance 1 - cos.
        chosen = [int(random.integers(len(unit)))]
        for _ in range(k - 1):
            d = np.maximum(1.0 - unit @ unit[chosen].T, 0).min(axis=1)
            chosen.append(int(random.choice(len(unit), p=d / d.sum())))
        centres = unit[chosen]
        labels = None
        for _ in range(iterations):
            new = (unit @ centres.T).argmax(axis=1)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            sums = np.stack([unit[labels == c].sum(axis=0) if (labels == c).any() else centres[c] for c in range(k)])
            centres = sums / np.linalg.norm(sums, axis=1, keepdims=True)
        score = (unit * centres[labels]).sum()
        if score > best_score:
            best, best_score = labels, score
    return best + 1


def merge_average(x, labels, k):
    """Average-linkage merging of the given clusters down to K (UPGMA over the clusters' mean pairwise distances)."""
    ids = list(np.unique(labels))
    groups = {c: x[labels == c] for c in ids}
    sizes = {c: len(groups[c]) for c in ids}
    mean = {(a, b): cdist(groups[a], groups[b]).mean() for i, a in enumerate(ids) for b in ids[i + 1:]}
    parent = {c: c for c in ids}
    while len(ids) > k:
        a, b = min(((a, b) for i, a in enumerate(ids) for b in ids[i + 1:]), key=lambda pair: mean[pair])
        for c in ids:
            if c in (a, b):
                continue
            d = (sizes[a] * mean[tuple(sorted((a, c)))] + sizes[b] * mean[tuple(sorted((b, c)))]) / (sizes[a] + sizes[b])
            mean[tuple(sorted((a, c)))] = d
        sizes[a] += sizes[b]
        ids.remove(b)
        parent[b] = a
    def root(c):
        while parent[c] != c:
            c = parent[c]
        return c
    merged = np.array([root(c) for c in labels])
    return np.searchsorted(np.unique(merged), merged) + 1


def cluster(x, k, method):
    """N cluster ids 1..K, or None where the method has no answer (a fold whose tree never has K large clusters)."""
    x = np.asarray(x, dtype=np.float64)
    if method in LINKAGES:
        return fcluster(linkage(x, method=method), k, criterion="maxclust")
    if method == "kmeans":
        from sklearn.cluster import KMeans
        return KMeans(k, n_init=50, random_state=0).fit_predict(x) + 1
    if method == "spherical-kmeans":
        return spherical_kmeans(x, k)
    if method.startswith("spectral-nn"):
        from sklearn.cluster import SpectralClustering
        neighbours = int(method.removeprefix("spectral-nn"))
        return SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=neighbours, assign_labels="cluster_qr",
                                  random_state=0).fit_predict(x) + 1
    if method.startswith("ward-over") and method.endswith("-average"):
        over = int(method.removeprefix("ward-over").removesuffix("-average"))
        return merge_average(x, fcluster(linkage(x, method="ward"), over * k, criterion="maxclust"), k)
    base, _, rest = method.partition("-")
    if base in LINKAGES:
        refine = rest.endswith("kmeans")
        rest = rest.removesuffix("kmeans").removesuffix("-")
        tree = linkage(x, method=base)
        if rest.startswith("fold"):
            labels, large = cut_large(tree, k, max(2, int(np.ceil(float(rest.removeprefix("fold")) * len(x)))))
            if labels is None:
                return None
            labels = fold_small(x, labels, large)
        elif rest == "":
            labels = fcluster(tree, k, criterion="maxclust")
        else:
            raise ValueError(f"unknown clustering method {method}")
        return lloyd(x, centroids(x, labels)) if refine else labels
    raise ValueError(f"unknown clustering method {method}")

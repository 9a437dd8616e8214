using AnomalyClustering.Core.Clustering;

namespace AnomalyClustering.Core.Tests.Clustering;

/// <summary>
/// A plain transliteration of SciPy 1.10's nn_chain, mst_single_linkage and label (no caches, no
/// SIMD, a full scan per chain step), used to cross-check the optimised code on many tie-heavy inputs.
/// </summary>
internal static class ScipyReferenceLinkage
{
    public static double[,] Linkage(double[] condensed, int n, LinkageMethod method)
    {
        var merges = method == LinkageMethod.Single ? MstSingle(condensed, n) : NnChain((double[])condensed.Clone(), n, method);
        return SortAndLabel(merges, n);
    }

    private static long Index(int n, int i, int j) =>
        i < j ? (long)n * i - (long)i * (i + 1) / 2 + (j - i - 1) : (long)n * j - (long)j * (j + 1) / 2 + (i - j - 1);

    private static (int X, int Y, double H)[] NnChain(double[] d, int n, LinkageMethod method)
    {
        var z = new (int, int, double)[n - 1];
        var size = Enumerable.Repeat(1, n).ToArray();
        var chain = new int[n];
        var chainLength = 0;
        int x = 0, y = 0;
        for (var k = 0; k < n - 1; k++)
        {
            if (chainLength == 0)
            {
                chainLength = 1;
                chain[0] = Array.FindIndex(size, s => s > 0);
            }
            double currentMin;
            while (true)
            {
                x = chain[chainLength - 1];
                if (chainLength > 1)
                {
                    y = chain[chainLength - 2];
                    currentMin = d[Index(n, x, y)];
                }
                else
                {
                    currentMin = double.PositiveInfinity;
                }
                for (var i = 0; i < n; i++)
                {
                    if (size[i] == 0 || x == i)
                    {
                        continue;
                    }
                    var dist = d[Index(n, x, i)];
                    if (dist < currentMin)
                    {
                        currentMin = dist;
                        y = i;
                    }
                }
                if (chainLength > 1 && y == chain[chainLength - 2])
                {
                    break;
                }
                chain[chainLength++] = y;
            }
            chainLength -= 2;
            if (x > y)
            {
                (x, y) = (y, x);
            }
            int nx = size[x], ny = size[y];
            z[k] = (x, y, currentMin);
            size[x] = 0;
            size[y] = nx + ny;
            for (var i = 0; i < n; i++)
            {
                var ni = size[i];
                if (ni == 0 || i == y)
                {
                    continue;
                }
                double dxi = d[Index(n, i, x)], dyi = d[Index(n, i, y)];
                d[Index(n, i, y)] = method switch
                {
                    LinkageMethod.Ward => WardUpdate(dxi, dyi, currentMin, nx, ny, ni),
                    LinkageMethod.Average => (nx * dxi + ny * dyi) / (nx + ny),
                    _ => Math.Max(dxi, dyi),
                };
            }
        }
        return z;
    }

    private static double WardUpdate(double dxi, double dyi, double dxy, int nx, int ny, int ni)
    {
        var t = 1.0 / (nx + ny + ni);
        return Math.Sqrt((ni + nx) * t * dxi * dxi + (ni + ny) * t * dyi * dyi - ni * t * dxy * dxy);
    }

    private static (int X, int Y, double H)[] MstSingle(double[] dists, int n)
    {
        var z = new (int, int, double)[n - 1];
        var merged = new bool[n];
        var d = Enumerable.Repeat(double.PositiveInfinity, n).ToArray();
        int x = 0, y = 0;
        for (var k = 0; k < n - 1; k++)
        {
            var currentMin = double.PositiveInfinity;
            merged[x] = true;
            for (var i = 0; i < n; i++)
            {
                if (merged[i])
                {
                    continue;
                }
                var dist = dists[Index(n, x, i)];
                if (d[i] > dist)
                {
                    d[i] = dist;
                }
                if (d[i] < currentMin)
                {
                    y = i;
                    currentMin = d[i];
                }
            }
            z[k] = (x, y, currentMin);
            x = y;
        }
        return z;
    }

    private static double[,] SortAndLabel((int X, int Y, double H)[] merges, int n)
    {
        // NumPy's stable argsort by height, then label() with a union-find over dendrogram ids.
        var order = Enumerable.Range(0, merges.Length).OrderBy(r => merges[r].H).ToArray();
        var parent = Enumerable.Range(0, 2 * n - 1).ToArray();
        var size = Enumerable.Repeat(1, 2 * n - 1).ToArray();
        int Find(int v)
        {
            while (parent[v] != v)
            {
                v = parent[v];
            }
            return v;
        }
        var z = new double[n - 1, 4];
        for (var r = 0; r < order.Length; r++)
        {
            var (x, y, h) = merges[order[r]];
            int rx = Find(x), ry = Find(y);
            parent[rx] = parent[ry] = n + r;
            size[n + r] = size[rx] + size[ry];
            z[r, 0] = Math.Min(rx, ry);
            z[r, 1] = Math.Max(rx, ry);
            z[r, 2] = h;
            z[r, 3] = size[n + r];
        }
        return z;
    }
}

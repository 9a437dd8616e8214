namespace AnomalyClustering.Silo.Api;

/// <summary>The paging of every API route that lists what grows (jobs, a cluster's images, errors, a line's decisions).</summary>
internal static class ApiPage
{
    /// <summary>Items per page when the caller gives no <c>limit</c>.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The largest <c>limit</c> a caller may ask for.</summary>
    public const int MaxLimit = 1000;

    /// <summary>The page's offset and limit, defaults filled in.</summary>
    /// <exception cref="ApiProblemException">400: offset negative or limit outside 1 .. <see cref="MaxLimit"/>.</exception>
    public static (int Offset, int Limit) Check(int? offset, int? limit)
    {
        var skip = offset ?? 0;
        var take = limit ?? DefaultLimit;
        if (take is < 1 or > MaxLimit)
        {
            throw ApiProblemException.BadRequest($"limit is {take}; use 1 to {MaxLimit}.");
        }
        if (skip < 0)
        {
            throw ApiProblemException.BadRequest($"offset is {skip}; use 0 or more.");
        }
        return (skip, take);
    }
}

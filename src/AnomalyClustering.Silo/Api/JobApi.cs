namespace AnomalyClustering.Silo.Api;

/// <summary>The HTTP API of jobs (mapped on coordinator silos).</summary>
public static class JobApi
{
    /// <summary>Maps the job endpoints under <c>/jobs</c>.</summary>
    public static IEndpointRouteBuilder MapJobApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints;
    }
}

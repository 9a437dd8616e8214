using System.Text.Json;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Silo.Security;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Silo.Lines;

/// <summary>
/// The HTTP API of a line's novel pool (mapped with <see cref="LineApi"/>): show the pool and its newest proposals, set its
/// bound and automatic recluster, recluster it, and name a proposal so that it becomes a defect type of the next catalog
/// version. Reclusters and names go through the line's <see cref="ILineNovelPoolGrain"/>, which also takes the intake's
/// novel images and runs one recluster at a time. Refusals: 404 unknown line or proposal, 409 empty pool or name clash, 400 bad input.
/// </summary>
public static class LineNovelPoolApi
{
    /// <summary>Maps the endpoints on the <c>/lines</c> group.</summary>
    public static RouteGroupBuilder MapLineNovelPoolApi(this RouteGroupBuilder lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        lines.MapGet("/{name}/novel", ShowAsync)
            .WithName("GetLineNovelPool")
            .WithSummary("A line's novel pool: its size, settings, the newest completed recluster's proposals and the recluster running now")
            .Produces<NovelPoolView>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        lines.MapPut("/{name}/novel/settings", SetSettingsAsync)
            .WithName("SetLineNovelPoolSettings")
            .WithSummary("Set the pool's bound and its automatic recluster")
            .WithDescription($"Body `{{\"capacity\": 2000, \"reclusterEvery\": 50, \"clusterCount\": null}}`: at most `capacity` images (1-{NovelPoolSettings.MaximumCapacity}; the oldest leave first), a recluster each time `reclusterEvery` images joined since the last (0 never), into `clusterCount` clusters (null: chosen automatically).")
            .Accepts<NovelPoolSettings>("application/json")
            .WithMetadata(new RequestBodyDescription("application/json ({\"capacity\": 2000, \"reclusterEvery\": 50, \"clusterCount\": null})"))
            .Produces<NovelPoolSettings>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiPermissions.Submit);

        lines.MapPost("/{name}/recluster", ReclusterAsync)
            .WithName("ReclusterLine")
            .WithSummary("Start a recluster of the line's novel pool (Ward) into proposals for new defect types")
            .WithDescription("Body `{\"clusters\": 3}` or `{\"clusters\": \"auto\"}` (the default, also for an empty body): the pool's x_i clustered by Ward's method and cut into K clusters, K given or chosen by the silhouette. Answered 202 at once (a full pool takes longer than a request may) with the request (`requestId`) and a Location to `GET /lines/{name}/novel`: there `reclustering` or `reclustersWaiting` show it until its proposals are stored with its `requestId` (each has an id, `p1` the largest, size, spread, centroid and member image ids; they replace the earlier proposals), or a failure with its `requestId` and why is among `reclusterFailures`.")
            .Produces<NovelReclusterRequest>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPermissions.Submit);

        lines.MapPost("/{name}/proposals/{proposal}/name", NameAsync)
            .WithName("NameLineProposal")
            .WithSummary("Name a proposal: it becomes a defect type of the line's next catalog version")
            .WithDescription("Body `{\"name\": \"crack\"}`. The next version is the newest plus the proposal's cluster; its members leave the pool; decisions made before keep their version.")
            .Produces<LineView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiPermissions.Name);
        return lines;
    }

    private static async Task<IResult> ShowAsync(string name, HttpContext http, IBlobStore store, LineCatalogStore lines, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var prefix = await LineApi.KnownPrefixAsync(lines, name, http, cancellationToken).ConfigureAwait(false);
        var pool = new LineNovelPool(store, lines, prefix);
        // Asked before the proposals and the failures are read: a recluster that ends in between shows as its result, never
        // as neither running nor done. The grain's failures join the stored ones: a failure for the store being away could
        // not be stored, and a client polling for its request must still hear of it.
        var reclusters = await grains.GetGrain<ILineNovelPoolGrain>(prefix).ReclusterStatus().ConfigureAwait(false);
        var failures = LineNovelPool.NewestFailures([.. reclusters.Failures ?? [], .. await pool.FailuresAsync(cancellationToken).ConfigureAwait(false)]);
        return Results.Ok(new NovelPoolView(
            name,
            await pool.CountAsync(cancellationToken).ConfigureAwait(false),
            await pool.SettingsAsync(cancellationToken).ConfigureAwait(false),
            await pool.ProposalsAsync(cancellationToken).ConfigureAwait(false),
            reclusters.Running,
            reclusters.Waiting,
            failures.FirstOrDefault(),
            failures));
    }

    private static async Task<IResult> SetSettingsAsync(string name, HttpRequest request, IBlobStore store, LineCatalogStore lines, CancellationToken cancellationToken)
    {
        var prefix = await LineApi.KnownPrefixAsync(lines, name, request.HttpContext, cancellationToken).ConfigureAwait(false);
        var settings = await JobRequests.ReadJsonAsync<NovelPoolSettings>(request, cancellationToken).ConfigureAwait(false);
        await new LineNovelPool(store, lines, prefix).SaveSettingsAsync(settings, cancellationToken).ConfigureAwait(false);
        return Results.Ok(settings);
    }

    private static async Task<IResult> ReclusterAsync(string name, HttpRequest request, IGrainFactory grains, LineCatalogStore lines, CancellationToken cancellationToken)
    {
        var prefix = await LineApi.KnownPrefixAsync(lines, name, request.HttpContext, cancellationToken).ConfigureAwait(false);
        int? clusters = null;
        if (request.ContentLength is not 0 && request.ContentType is not null)
        {
            var body = await JobRequests.ReadJsonAsync<ReclusterRequest>(request, cancellationToken).ConfigureAwait(false);
            clusters = body.Clusters switch
            {
                null or { ValueKind: JsonValueKind.Null } => null,
                { ValueKind: JsonValueKind.String } value when string.Equals(value.GetString(), "auto", StringComparison.OrdinalIgnoreCase) => null,
                { ValueKind: JsonValueKind.Number } value when value.TryGetInt32(out var k) && k >= 1 => k,
                { } value => throw ApiProblemException.BadRequest($"clusters is {value.GetRawText()}; give a whole number K of 1 or more, or \"auto\".", "Invalid recluster"),
            };
        }
        // Not waited for: a recluster of a full pool (20,000 images) outlasts the grain call and the person's patience alike.
        var accepted = await grains.GetGrain<ILineNovelPoolGrain>(prefix).RequestRecluster(clusters).ConfigureAwait(false);
        return Results.Accepted($"/lines/{Uri.EscapeDataString(name)}/novel", accepted);
    }

    private static async Task<IResult> NameAsync(string name, string proposal, HttpRequest request, IGrainFactory grains, LineCatalogStore lines, CancellationToken cancellationToken)
    {
        var prefix = await LineApi.KnownPrefixAsync(lines, name, request.HttpContext, cancellationToken).ConfigureAwait(false);
        var body = await JobRequests.ReadJsonAsync<NameProposalRequest>(request, cancellationToken).ConfigureAwait(false);
        var version = await grains.GetGrain<ILineNovelPoolGrain>(prefix).Name(proposal, body.Name ?? "").ConfigureAwait(false);
        var catalog = await lines.ReadAsync(prefix, version, cancellationToken).ConfigureAwait(false);
        return Results.Created($"/lines/{catalog.Line}", LineView.Of(catalog, await lines.VersionsAsync(prefix, cancellationToken).ConfigureAwait(false)));
    }
}

/// <summary>The body of <c>POST /lines/{name}/recluster</c>: <c>clusters</c>, a whole number or <c>"auto"</c>.</summary>
/// <param name="Clusters">K, <c>"auto"</c>, or absent (automatic).</param>
public sealed record ReclusterRequest(JsonElement? Clusters = null);

/// <summary>The body of <c>POST /lines/{name}/proposals/{proposal}/name</c>.</summary>
/// <param name="Name">The defect type's name.</param>
public sealed record NameProposalRequest(string? Name);

/// <summary>What <c>GET /lines/{name}/novel</c> answers.</summary>
/// <param name="Line">The line.</param>
/// <param name="PoolSize">Images in the pool.</param>
/// <param name="Settings">Its bound and automatic recluster.</param>
/// <param name="Proposals">The newest completed recluster's proposals, or null before the first.</param>
/// <param name="Reclustering">The recluster running now (when it started, whether automatic, the request it answers), or null when none is.</param>
/// <param name="ReclustersWaiting">The reclusters asked for that wait for the running one, in the order they will run.</param>
/// <param name="LastReclusterFailure">The newest recluster that failed (when, why, the request it answered), or null when none has; the first of <paramref name="ReclusterFailures"/>.</param>
/// <param name="ReclusterFailures">
/// The reclusters that failed, newest first (<see cref="LineNovelPool.NewestFailures"/>: the newest automatic one and the
/// newest requested ones, each under its request id), stored or only known to the pool's grain while the store was away.
/// </param>
public sealed record NovelPoolView(
    string Line, int PoolSize, NovelPoolSettings Settings, NovelProposalSet? Proposals, NovelReclusterInProgress? Reclustering = null,
    IReadOnlyList<NovelReclusterRequest>? ReclustersWaiting = null, NovelReclusterFailure? LastReclusterFailure = null,
    IReadOnlyList<NovelReclusterFailure>? ReclusterFailures = null);

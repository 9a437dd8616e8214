using System.CommandLine;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Cli.Remote;
using AnomalyClustering.Grains.Lines;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// Where <c>line recluster</c> and <c>line name</c> reach a line's novel pool: the local store (<c>--store</c>, no silo:
/// one command at a time works on it, under the store's lock held shared as an embedded run holds it, so that a server's
/// folder is refused and no server starts on it meanwhile) or a server (<c>--server</c>, through the line's pool grain), with the CLI's one-line
/// errors for the pool's typed ones.
/// </summary>
/// <param name="warnings">Where a warning that the store's lock protects nothing is written (standard error).</param>
internal sealed class LinePoolConnection(TextWriter warnings)
{
    private readonly Option<string?> store = LineStoreOption.Create();
    private readonly RemoteOptionSet remote = new();

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(store);
        command.Options.Add(remote.Server);
        remote.Credentials.AddTo(command);
    }

    /// <summary>Runs <paramref name="local"/> on the local store's pool of <paramref name="line"/>, or <paramref name="server"/> with a client of the server.</summary>
    public async Task<T> RunAsync<T>(
        ParseResult parseResult, string line, Func<LineNovelPool, Task<T>> local, Func<JobApiClient, Task<T>> server, CancellationToken cancellationToken)
    {
        LocalLineStore.CheckName(line);
        if (parseResult.GetValue(remote.Server) is { } address)
        {
            if (parseResult.GetValue(store) is not null)
            {
                throw new CliInputException("--store names the local store of embedded runs; with --server the server's store is used.");
            }
            using var client = new JobApiClient(JobApiClient.ParseServer(address), await remote.Credentials.ResolveAsync(parseResult, cancellationToken).ConfigureAwait(false));
            try
            {
                return await server(client).ConfigureAwait(false);
            }
            catch (NovelPoolException e)
            {
                // A server's failure read back from the pool (a recluster that could not cut it), as the embedded run reports it.
                throw new CliInputException($"line '{line}': {e.Message}", e);
            }
        }
        if (parseResult.GetValue(remote.Credentials.Token) is not null || parseResult.GetValue(remote.Credentials.Audience) is not null)
        {
            throw new CliInputException("--token and --token-audience authenticate to a server; they go with --server.");
        }
        var storeFolder = parseResult.GetValue(store) ?? EmbeddedCluster.DefaultStoreFolder;
        // The pool grain of a server on the folder serialises the same changes (proposals, catalog versions, the pool's members):
        // written beside it, they would be lost or clash.
        using var folderLock = EmbeddedCluster.TakeStoreLock(storeFolder, warnings);
        var pool = new LocalLineStore(storeFolder).Pool(line);
        try
        {
            return await local(pool).ConfigureAwait(false);
        }
        catch (NovelPoolException e)
        {
            throw new CliInputException($"line '{line}': {e.Message}", e);
        }
    }
}

using System.Collections.Concurrent;
using AnomalyClustering.Embedding.Backbones;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Grains.Workers;

/// <summary>
/// The backbones open on this silo, one ONNX Runtime session and one batcher per description, opened on first use and
/// shared by every image grain: a session costs seconds and hundreds of MB, so it must not be per grain.
/// </summary>
public sealed class BackboneSessions : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<BatchingBackbone>> _open = new(StringComparer.Ordinal);
    private readonly BackboneHostOptions _hostOptions;
    private readonly WorkerOptions _workerOptions;
    private readonly ILogger<BackboneSessions> _logger;

    /// <summary>Creates the (empty) set of sessions.</summary>
    public BackboneSessions(IOptions<BackboneHostOptions> hostOptions, IOptions<WorkerOptions> workerOptions, ILogger<BackboneSessions> logger)
    {
        _hostOptions = hostOptions.Value;
        _workerOptions = workerOptions.Value;
        _logger = logger;
    }

    /// <summary>Images that went through a backbone on this silo so far.</summary>
    public long ImagesInferred => _open.Values.Where(lazy => lazy.IsValueCreated).Sum(lazy => lazy.Value.ImagesInferred);

    /// <summary>The open backbone for <paramref name="descriptionJson"/>, opening it on first use.</summary>
    /// <exception cref="Core.Validation.InvalidClusteringInputException">The description is invalid.</exception>
    public BatchingBackbone Get(string descriptionJson)
    {
        var lazy = _open.GetOrAdd(descriptionJson, json => new Lazy<BatchingBackbone>(() => Open(json)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A failed open (missing model file, no GPU) is not cached: the next job may have fixed it.
            _open.TryRemove(new KeyValuePair<string, Lazy<BatchingBackbone>>(descriptionJson, lazy));
            throw;
        }
    }

    private BatchingBackbone Open(string json)
    {
        var description = BackboneDescription.FromJson(json, "the job's backbone description");
        var backbone = new OnnxBackbone(description, _hostOptions.Runtime);
        _logger.LogInformation("Opened backbone {Backbone} ({Identity}) on {Provider}", description.Name, backbone.Identity, _hostOptions.ExecutionProvider);
        return new BatchingBackbone(backbone, _workerOptions.MaxBatchSize, _workerOptions.BatchWindow);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var lazy in _open.Values.Where(lazy => lazy.IsValueCreated))
        {
            lazy.Value.Dispose();
        }
        _open.Clear();
    }
}

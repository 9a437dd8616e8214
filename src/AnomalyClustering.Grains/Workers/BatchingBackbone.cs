using System.Collections.Concurrent;
using System.Threading.Channels;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;

namespace AnomalyClustering.Grains.Workers;

/// <summary>
/// One open backbone shared by the image grains of a silo, with dynamic batching: requests that arrive together (up to
/// the batch size, waiting at most the batch window after the first) run as one backbone call, then each image's patch
/// bag is formed. Image grains are one per image, so without this every image would be a batch of one.
/// </summary>
public sealed class BatchingBackbone : IDisposable
{
    private readonly OnnxBackbone _backbone;
    private readonly int _maxBatchSize;
    private readonly TimeSpan _batchWindow;
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<PatchEmbeddingOptions, PatchEmbedder> _embedders = new();
    private readonly Task _loop;
    private readonly int _tensorLength;
    private long _imagesInferred;

    /// <summary>Starts batching for <paramref name="backbone"/> (owned and disposed here).</summary>
    public BatchingBackbone(OnnxBackbone backbone, int maxBatchSize, TimeSpan batchWindow)
    {
        _backbone = backbone;
        _maxBatchSize = Math.Max(1, maxBatchSize);
        _batchWindow = batchWindow;
        _tensorLength = new ImagePreprocessor(backbone.Description.Preprocessing).TensorLength;
        _loop = Task.Run(RunBatchesAsync);
    }

    /// <summary>The backbone's description.</summary>
    public BackboneDescription Description => _backbone.Description;

    /// <summary>The backbone's identity (model hash and outputs): part of every feature-cache key.</summary>
    public string Identity => _backbone.Identity;

    /// <summary>Images that went through the backbone so far.</summary>
    public long ImagesInferred => Interlocked.Read(ref _imagesInferred);

    /// <summary>Runs one preprocessed image (C x H x W floats of the description's input size) and forms its patch bag.</summary>
    public Task<PatchBag> EmbedAsync(float[] tensor, PatchEmbeddingOptions options, CancellationToken cancellationToken = default)
    {
        var embedder = _embedders.GetOrAdd(options, o => new PatchEmbedder(o));
        var request = new Request(tensor, embedder, new TaskCompletionSource<PatchBag>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_requests.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(BatchingBackbone));
        }
        return request.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task RunBatchesAsync()
    {
        var preprocessing = _backbone.Description.Preprocessing;
        var tensorLength = _tensorLength;
        var input = new float[_maxBatchSize * tensorLength];
        var batch = new List<Request>(_maxBatchSize);
        BackboneOutput? fullBatchOutput = null;
        var reader = _requests.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            Drain(reader, batch);
            if (batch.Count < _maxBatchSize && _batchWindow > TimeSpan.Zero)
            {
                await Task.Delay(_batchWindow).ConfigureAwait(false);
                Drain(reader, batch);
            }
            try
            {
                for (var b = 0; b < batch.Count; b++)
                {
                    batch[b].Tensor.AsSpan().CopyTo(input.AsSpan(b * tensorLength, tensorLength));
                }
                var full = batch.Count == _maxBatchSize;
                var output = _backbone.Run(input.AsSpan(0, batch.Count * tensorLength), batch.Count, preprocessing.CropHeight, preprocessing.CropWidth, full ? fullBatchOutput : null);
                if (full)
                {
                    fullBatchOutput = output;
                }
                Interlocked.Add(ref _imagesInferred, batch.Count);
                var bags = new PatchBag[batch.Count];
                Parallel.For(0, batch.Count, b => bags[b] = batch[b].Embedder.Embed(output.FeatureMaps(b)));
                for (var b = 0; b < batch.Count; b++)
                {
                    batch[b].Done.TrySetResult(bags[b]);
                }
            }
            catch (Exception e)
            {
                foreach (var request in batch)
                {
                    request.Done.TrySetException(e);
                }
            }
        }
    }

    private void Drain(ChannelReader<Request> reader, List<Request> batch)
    {
        while (batch.Count < _maxBatchSize && reader.TryRead(out var request))
        {
            if (request.Tensor.Length != _tensorLength)
            {
                request.Done.TrySetException(new ArgumentException($"the image tensor has {request.Tensor.Length} floats; the backbone expects its preprocessing's input size."));
                continue;
            }
            batch.Add(request);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _requests.Writer.TryComplete();
        _loop.Wait(TimeSpan.FromSeconds(30));
        _backbone.Dispose();
    }

    private sealed record Request(float[] Tensor, PatchEmbedder Embedder, TaskCompletionSource<PatchBag> Done);
}

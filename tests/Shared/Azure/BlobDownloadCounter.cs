using Azure.Core;
using Azure.Core.Pipeline;

namespace AnomalyClustering.Testing;

/// <summary>
/// An Azure SDK pipeline policy that sums the bodies of the GET responses (blob downloads) a client receives, for tests
/// that assert how much of a blob a read fetched. Added per retry, it counts every attempt's download.
/// </summary>
internal sealed class BlobDownloadCounter : HttpPipelineSynchronousPolicy
{
    private long _bytes;

    /// <summary>The bytes downloaded since the counter was made or last set; set it to 0 before the read being measured.</summary>
    public long Bytes
    {
        get => Interlocked.Read(ref _bytes);
        set => Interlocked.Exchange(ref _bytes, value);
    }

    /// <inheritdoc />
    public override void OnReceivedResponse(HttpMessage message)
    {
        if (message.Request.Method == RequestMethod.Get && message.Response.Headers.ContentLength is { } length)
        {
            Interlocked.Add(ref _bytes, length);
        }
    }
}

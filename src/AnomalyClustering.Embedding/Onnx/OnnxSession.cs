using Microsoft.ML.OnnxRuntime;

namespace AnomalyClustering.Embedding.Onnx;

/// <summary>
/// An ONNX Runtime session with the run options its calls share, released together and once: what every graph this project
/// runs holds (a backbone, the nearest-patch search, the k-means centre assignment).
/// </summary>
internal sealed class OnnxSession(InferenceSession session) : IDisposable
{
    /// <summary>The session.</summary>
    public InferenceSession Session { get; } = session;

    /// <summary>The run options of every call (made after the session, so a session that fails to load leaves none behind).</summary>
    public RunOptions RunOptions { get; } = new();

    /// <summary>True once disposed.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Releases the session and the run options; later calls do nothing.</summary>
    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }
        IsDisposed = true;
        Session.Dispose();
        RunOptions.Dispose();
    }
}

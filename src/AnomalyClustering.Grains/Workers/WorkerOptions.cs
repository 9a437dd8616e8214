using AnomalyClustering.Embedding.Backbones;

namespace AnomalyClustering.Grains.Workers;

/// <summary>Settings of the image work on a gpu-worker silo (configuration section <c>AnomalyClustering:Worker</c>).</summary>
public sealed class WorkerOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AnomalyClustering:Worker";

    /// <summary>
    /// Most images per backbone run. Concurrent image grains on one silo are batched together (dynamic batching), which
    /// is what keeps a GPU busy; on CPU it matters less.
    /// </summary>
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>How long the batcher waits for more images after the first of a batch arrives.</summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Threads of one image's patch scoring; 1 because many image grains score at once.</summary>
    public int ScoringThreads { get; set; } = 1;

    /// <summary>
    /// The nearest-patch search of the patch scores: <c>Auto</c> (default) runs it as a small ONNX graph on the backbone's
    /// GPU when the backbones run on CUDA or TensorRT, and as the SIMD kernel on the CPU cores otherwise; <c>Cpu</c> and
    /// <c>Onnx</c> force one (<c>Onnx</c> on a CPU worker runs the graph on ONNX Runtime's CPU provider).
    /// </summary>
    public NearestPatchKernel NearestPatchKernel { get; set; } = NearestPatchKernel.Auto;

    /// <summary>Bytes of patch bags kept in memory per silo (own bags between the two phases, reference bags across images).</summary>
    public long PatchBagMemoryBytes { get; set; } = 1L << 30;

    /// <summary>
    /// The largest image width or height this worker decodes, whatever a job asks (a job's <c>maxImageDimension</c> can
    /// only lower it): the bound of one decoded image's memory is the worker's setting, not the client's.
    /// </summary>
    public int MaxImageDimension { get; set; } = 8192;

    /// <summary>
    /// The most decoded pixels this worker holds at once, over all the images it decodes concurrently (about
    /// <see cref="DecodedPixelBudget.BytesPerPixel"/> bytes each). 0 (the default) takes a quarter of the process's memory
    /// limit (the pod's, as the GC sees it). An image waits until its pixels fit; one larger than the whole budget is refused.
    /// </summary>
    public long MaxInFlightDecodedPixels { get; set; }
}

/// <summary>How backbones run on this silo (configuration section <c>AnomalyClustering:Backbones</c>).</summary>
public sealed class BackboneHostOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AnomalyClustering:Backbones";

    /// <summary>The name of the backbone a job gets when it names none.</summary>
    public const string BuiltInName = "builtin";

    /// <summary><c>Cpu</c>, <c>Cuda</c> or <c>TensorRt</c>.</summary>
    public ExecutionProviderKind ExecutionProvider { get; set; } = ExecutionProviderKind.Cpu;

    /// <summary>The GPU of the CUDA / TensorRT providers.</summary>
    public int DeviceId { get; set; }

    /// <summary>ONNX Runtime intra-op threads; 0 lets it choose.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Lets the backbone's convolutions multiply in TF32 on CUDA / TensorRT (ONNX Runtime's default): measured on an H200,
    /// 2,392 against 1,615 images/s at batch 32, feature maps within 0.36 % of the CPU's against 2.4e-6 with it off
    /// (docs/BENCHMARKS.md). The nearest-patch search never uses TF32 (its scores must be the CPU kernel's).
    /// </summary>
    public bool AllowTf32 { get; set; } = true;

    /// <summary>Named backbones: name to the path of a backbone description JSON (model files mounted on every worker).</summary>
    public Dictionary<string, string> Catalog { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The runtime options these settings imply.</summary>
    public BackboneRuntimeOptions Runtime => new() { ExecutionProvider = ExecutionProvider, DeviceId = DeviceId, IntraOpThreads = IntraOpThreads, AllowTf32 = AllowTf32 };
}

namespace AnomalyClustering.Jobs.Tests;

/// <summary>
/// The job domain stays pure: results are read by the API, reports and the CLI's remote mode through it, and none of
/// them may pull in ONNX Runtime, SkiaSharp or the embedding project on that path.
/// </summary>
public sealed class JobDomainDependencyTests
{
    private static readonly string[] Forbidden = ["AnomalyClustering.Embedding", "Microsoft.ML.OnnxRuntime", "SkiaSharp", "Orleans"];

    [Fact]
    public void TheJobDomainReferencesNoDecodingOnnxOrOrleansAssembly()
    {
        var references = typeof(ClusteringResult).Assembly.GetReferencedAssemblies().Select(name => name.Name!).ToArray();

        Assert.Contains("AnomalyClustering.Core", references);
        Assert.DoesNotContain(references, name => Forbidden.Any(forbidden => name.StartsWith(forbidden, StringComparison.Ordinal)));
    }

    [Fact]
    public void ReadingAResultFolderLoadsNoDecodingOrOnnxAssembly()
    {
        var folder = Directory.CreateTempSubdirectory("anomaly-jobs-deps-").FullName;
        try
        {
            var result = EmbeddingClustering.Run([0, 0, 1, 1, 9, 9, 10, 10], 4, 2, ["a", "b", "c", "d"], null, new ClusteringJobOptions { ClusterCount = 2 });
            ResultFolder.Write(folder, result, new ResultSource("vectors", "v.npy", null, null, null, new Dictionary<string, int>()));
            Assert.Equal(4, ResultFolder.Read(folder).Result.Images.Count);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        var loaded = AppDomain.CurrentDomain.GetAssemblies().Select(assembly => assembly.GetName().Name!).ToArray();
        Assert.DoesNotContain(loaded, name => Forbidden.Any(forbidden => name.StartsWith(forbidden, StringComparison.Ordinal)));
    }
}

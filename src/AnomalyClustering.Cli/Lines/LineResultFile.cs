using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// A job's result as the line commands read it (<see cref="ResultFolder.ReadResultFile"/>: a result folder, or one full
/// result.json of earlier versions): the result, where it came from, and its embeddings as one row-major N x D array.
/// </summary>
internal static class LineResultFile
{
    /// <summary>What <see cref="Read"/> returns.</summary>
    /// <param name="Result">The result, every image with an embedding of <see cref="ClusteringResult.EmbeddingDimension"/> values.</param>
    /// <param name="Source">Where the job's images came from.</param>
    /// <param name="Path">The full path of the result.json read.</param>
    /// <param name="Embeddings">The images' embeddings, row i the embedding of image i (N x D values).</param>
    internal sealed record Contents(ClusteringResult Result, ResultSource Source, string Path, float[] Embeddings);

    /// <summary>Reads <paramref name="path"/> (a result.json, or the folder holding one).</summary>
    /// <exception cref="CliInputException">The file is missing, not a result of anomaly-cluster, or has no images or images without an embedding.</exception>
    public static Contents Read(string path)
    {
        var file = Directory.Exists(path) ? System.IO.Path.Combine(path, ResultFolder.SummaryFileName) : path;
        if (!File.Exists(file))
        {
            throw new CliInputException($"result file '{file}' does not exist.");
        }
        ClusteringResult result;
        ResultSource source;
        try
        {
            (result, source) = ResultFolder.ReadResultFile(file);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new CliInputException($"'{file}' is not a result.json of anomaly-cluster: {e.Message}", e);
        }
        float[] values;
        try
        {
            values = JobLineCatalog.Embeddings(result);
        }
        catch (AnomalyClustering.Core.Validation.InvalidClusteringInputException e)
        {
            throw new CliInputException($"'{file}': {e.Message}", e);
        }
        return new Contents(result, source, System.IO.Path.GetFullPath(file), values);
    }
}

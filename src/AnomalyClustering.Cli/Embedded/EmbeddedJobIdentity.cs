using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Embedded;

/// <summary>
/// The id of an embedded job, derived from what the job is: its images (path, size and last write of each file, id and
/// label), its normal images, its options and its backbone. The same command over unchanged files is the same job, so a
/// run that was killed finds the state its job kept in the store and resumes it; a changed file or option is another job.
/// </summary>
internal static class EmbeddedJobIdentity
{
    /// <summary>Every embedded job id starts so (the job blobs of a store show which came from the CLI).</summary>
    public const string Prefix = "cli-";

    /// <summary>The id of the job that clusters <paramref name="dataset"/> with <paramref name="options"/> and the backbone described.</summary>
    public static string Of(ClusteringDataset dataset, JobOptions options, string backboneDescriptionJson)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, "anomaly-cluster embedded job 1");
        Append(hash, JsonSerializer.Serialize(options));
        Append(hash, backboneDescriptionJson);
        AppendImages(hash, "images", dataset.Images);
        AppendImages(hash, "normal images", dataset.NormalImages);
        return Prefix + Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    /// <summary>A fresh id of its own, for a run that cannot take the job's id (another process runs that job on the store).</summary>
    public static string Unique() => $"{Prefix}{Guid.NewGuid():n}";

    private static void AppendImages(IncrementalHash hash, string list, IReadOnlyList<DatasetImage> images)
    {
        Append(hash, $"{list}: {images.Count}");
        foreach (var image in images)
        {
            // A stat per file (no read): at 10^6 images a second or two, against hours of work it lets a rerun keep.
            var file = new FileInfo(image.Path);
            var (length, written) = file.Exists ? (file.Length, file.LastWriteTimeUtc.Ticks) : (-1L, 0L);
            Append(hash, $"{image.Id}\n{Path.GetFullPath(image.Path)}\n{image.Label}\n{length}\n{written}");
        }
    }

    private static void Append(IncrementalHash hash, string text)
    {
        // Length-prefixed, so that no two different sequences of fields hash the same bytes.
        var bytes = Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[sizeof(int)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}

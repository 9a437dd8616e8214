using System.Net.Http.Headers;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Cli.Tests;

namespace AnomalyClustering.Silo.Tests;

/// <summary>Small datasets and upload forms for the API tests.</summary>
internal static class ApiDatasets
{
    /// <summary>Small embeddings keep jobs to a second or two; quality is the demo test's business.</summary>
    public static JobOptions Small { get; } = new() { PretrainDimension = 64, TargetDimension = 64, Tau = 0.5, Seed = 3 };

    /// <summary>The CLI flags of <see cref="Small"/>.</summary>
    public static string[] SmallFlags { get; } = ["--pretrain-dim", "64", "--target-dim", "64", "--tau", "0.5", "--seed", "3"];

    /// <summary>Writes class folders good/ and hole/ with <paramref name="perClass"/> images each under <paramref name="root"/>.</summary>
    public static void WriteClassFolders(string root, int perClass = 3, int seed = 11)
    {
        SyntheticImages.Write(Path.Combine(root, "good"), DefectType.Good, perClass, seed);
        SyntheticImages.Write(Path.Combine(root, "hole"), DefectType.Hole, perClass, seed + 1);
    }

    /// <summary>
    /// A multipart upload of every file below <paramref name="root"/> (file names: paths relative to it), fields first;
    /// files below <paramref name="normalFolder"/> go as normal images under their file names.
    /// </summary>
    public static MultipartFormDataContent UploadForm(string root, JobOptions? options, string? jobId = null, string? backbone = null, string? normalFolder = null)
    {
        var form = new MultipartFormDataContent();
        if (jobId is not null)
        {
            form.Add(new StringContent(jobId), "jobId");
        }
        if (options is not null)
        {
            form.Add(new StringContent(JsonSerializer.Serialize(options, SiloServer.Json)), "options");
        }
        if (backbone is not null)
        {
            form.Add(new StringContent(backbone), "backbone");
        }
        foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            form.Add(FileContent(path), "images", Path.GetRelativePath(root, path).Replace('\\', '/'));
        }
        if (normalFolder is not null)
        {
            foreach (var path in Directory.EnumerateFiles(normalFolder).Order(StringComparer.Ordinal))
            {
                form.Add(FileContent(path), "normal", Path.GetFileName(path));
            }
        }
        return form;
    }

    /// <summary>A file part's content.</summary>
    public static ByteArrayContent FileContent(string path)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(path));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return content;
    }
}

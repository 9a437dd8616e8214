using AnomalyClustering.Core.Validation;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Embedding.Onnx;

namespace AnomalyClustering.Cli;

/// <summary>Decides which exceptions are the user's to fix and words them as one line.</summary>
internal static class UserErrors
{
    /// <summary>The one-line message of an error the user can fix, or null for anything else (a bug).</summary>
    public static string? Describe(Exception exception) => exception switch
    {
        CliInputException e => e.Message,
        InvalidClusteringInputException e => e.Message,
        BackboneConfigurationException or OnnxModelException or ExecutionProviderUnavailableException or ImageDecodeException => exception.Message,
        DirectoryNotFoundException or FileNotFoundException or UnauthorizedAccessException => exception.Message,
        IOException e => e.Message,
        AggregateException { InnerExceptions.Count: 1 } e => Describe(e.InnerExceptions[0]),
        _ => null,
    };
}

using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Embedding.Onnx;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Commands;

/// <summary>Chooses the backbone from <c>--model</c> / <c>--backbone</c> / <c>--feature-output</c>, defaulting to the built-in one.</summary>
internal static class BackboneSelection
{
    /// <summary>
    /// How images fit the input of the backbones the CLI describes itself (<c>--model</c> and the built-in one):
    /// the whole image, stretched. The paper's shorter-side resize and centre crop cut away up to 60 % of an
    /// elongated image (magnetic tile strips), defects included; docs/RESULTS.md has the measurements. A
    /// <c>--backbone</c> description says for itself how its model wants images.
    /// </summary>
    public const ImageResizeMode DefaultResizeMode = ImageResizeMode.Stretch;

    /// <summary>Accepted values of <c>--execution-provider</c>.</summary>
    public static readonly string[] ExecutionProviders = ["cpu", "cuda", "tensorrt"];

    /// <summary>
    /// The description to open: the JSON file given with <c>--backbone</c>; or the ONNX file of
    /// <c>--model</c> with the named feature outputs (default: every 4-D float graph output); or the built-in backbone.
    /// </summary>
    /// <exception cref="CliInputException">Both or contradicting options, a missing file, or a model without usable outputs.</exception>
    public static BackboneDescription Describe(string? modelPath, string? descriptionPath, IReadOnlyList<string> featureOutputs)
    {
        if (modelPath is not null && descriptionPath is not null)
        {
            throw new CliInputException("give either --model (an ONNX file) or --backbone (a JSON description), not both.");
        }
        if (descriptionPath is not null)
        {
            if (featureOutputs.Count > 0)
            {
                throw new CliInputException("--feature-output goes with --model; a --backbone description names its own featureOutputs.");
            }
            return BackboneDescription.Load(descriptionPath);
        }
        if (modelPath is null)
        {
            if (featureOutputs.Count > 0)
            {
                throw new CliInputException("--feature-output needs --model (the built-in backbone has fixed outputs).");
            }
            return BuiltInBackbone.WholeImageDescription;
        }
        if (!File.Exists(modelPath))
        {
            throw new CliInputException($"model file '{modelPath}' does not exist.");
        }
        var signature = OnnxModelInspector.Inspect(modelPath);
        if (signature.Inputs.Count != 1)
        {
            throw new CliInputException(
                $"model '{modelPath}' has {signature.Inputs.Count} inputs ({string.Join(", ", signature.Inputs.Select(i => i.Name))}); write a --backbone description that names the image input.");
        }
        var outputs = featureOutputs.Count > 0
            ? featureOutputs
            : signature.Outputs.Where(o => o.ElementType == OnnxElementType.Float && o.Shape is { Count: 4 }).Select(o => o.Name).ToList();
        if (outputs.Count == 0)
        {
            throw new CliInputException(
                $"model '{modelPath}' has no 4-D float outputs to use as feature maps; name internal tensors with --feature-output (see 'anomaly-cluster model inspect {modelPath}').");
        }
        return new BackboneDescription
        {
            Name = Path.GetFileNameWithoutExtension(modelPath),
            ModelPath = Path.GetFullPath(modelPath),
            InputName = signature.Inputs[0].Name,
            FeatureOutputs = outputs,
            Preprocessing = PreprocessingOptions.Default with { ResizeMode = DefaultResizeMode },
        };
    }

    /// <summary>Parses an <c>--execution-provider</c> value.</summary>
    public static ExecutionProviderKind ParseExecutionProvider(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => ExecutionProviderKind.Cpu,
        "cuda" => ExecutionProviderKind.Cuda,
        "tensorrt" => ExecutionProviderKind.TensorRt,
        _ => throw new CliInputException($"unknown execution provider '{name}'; use one of {string.Join(", ", ExecutionProviders)}."),
    };
}

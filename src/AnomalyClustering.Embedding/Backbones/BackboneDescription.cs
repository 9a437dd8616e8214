using AnomalyClustering.Embedding.Imaging;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AnomalyClustering.Embedding.Onnx;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Embedding.Backbones;

/// <summary>
/// Which ONNX model serves as backbone and how to feed it: model file, input name, the feature outputs
/// in order (e.g. stride 8 then stride 16), and the image preprocessing. Read from JSON, so that any
/// backbone can be used without code changes.
/// </summary>
public sealed record BackboneDescription
{
    /// <summary>How descriptions are written and read: camelCase names, comments and trailing commas allowed.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>A short name for people and logs (not part of <see cref="ComputeIdentity"/>).</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The ONNX file; relative paths are resolved against the description file by <see cref="Load"/>.
    /// <c>builtin:NAME</c> names a model generated in code (<see cref="BuiltInBackbone"/>).
    /// </summary>
    public required string ModelPath { get; init; }

    /// <summary>The graph input that takes the float32 NCHW image batch.</summary>
    public string InputName { get; init; } = "input";

    /// <summary>
    /// The feature maps to take, in order (finest first by convention). Each is a graph output or any
    /// tensor the graph computes; internal tensors are made outputs when the backbone is opened.
    /// </summary>
    public required IReadOnlyList<string> FeatureOutputs { get; init; }

    /// <summary>The image preprocessing the model was trained with.</summary>
    public PreprocessingOptions Preprocessing { get; init; } = PreprocessingOptions.Default;

    /// <summary>A note for people: what the model is, its licence, its accuracy caveats.</summary>
    public string? Summary { get; init; }

    /// <summary>Value equality, the output list compared element by element.</summary>
    public bool Equals(BackboneDescription? other) =>
        other is not null && Name == other.Name && ModelPath == other.ModelPath && InputName == other.InputName
        && FeatureOutputs.SequenceEqual(other.FeatureOutputs) && Preprocessing.Equals(other.Preprocessing)
        && Summary == other.Summary;

    /// <summary>Hash consistent with <see cref="Equals(BackboneDescription?)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(Name, ModelPath, InputName, FeatureOutputs.Count, Preprocessing);

    /// <summary>
    /// Reads a description from a JSON file and resolves a relative <see cref="ModelPath"/> against the
    /// file's folder. It is not validated against the model yet: call <see cref="Validate"/> (opening an
    /// <see cref="OnnxBackbone"/> validates too).
    /// </summary>
    /// <exception cref="BackboneConfigurationException">The file is missing or is not a description.</exception>
    public static BackboneDescription Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new BackboneConfigurationException($"Backbone description file '{path}' does not exist.");
        }
        var description = FromJson(File.ReadAllText(path), path);
        if (!description.IsBuiltIn && !Path.IsPathRooted(description.ModelPath))
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            description = description with { ModelPath = Path.GetFullPath(Path.Combine(folder, description.ModelPath)) };
        }
        return description;
    }

    /// <summary>Parses a description from JSON text; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="BackboneConfigurationException">The text is not a description.</exception>
    public static BackboneDescription FromJson(string json, string source = "backbone description")
    {
        try
        {
            return JsonSerializer.Deserialize<BackboneDescription>(json, JsonOptions)
                ?? throw new BackboneConfigurationException($"{source} is empty (null); it must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new BackboneConfigurationException(
                $"{source} is not a valid backbone description: {e.Message} "
                + "Required: name, modelPath, featureOutputs; optional: inputName, preprocessing, summary.", e);
        }
    }

    /// <summary>The description as indented camelCase JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Writes the description as JSON to <paramref name="path"/>.</summary>
    public void Save(string path) => File.WriteAllText(path, ToJson() + "\n");

    /// <summary>
    /// Checks the description against its model: the file exists and is ONNX, the input exists and takes
    /// float32 4-D tensors, every feature output is a graph output or a computed tensor of float32.
    /// Errors list the names the model does have. Cost: one parse of the model.
    /// </summary>
    /// <exception cref="BackboneConfigurationException">Anything that would make the backbone unusable.</exception>
    public void Validate() => Resolve();

    /// <summary>
    /// A key for caches of features: SHA-256 (hex) over the model file's SHA-256, the input name, the
    /// feature outputs in order and the preprocessing. Equal identities mean equal features for equal
    /// images; the <see cref="Name"/> and <see cref="Summary"/> do not count. Cost: hashing the model file.
    /// </summary>
    /// <exception cref="BackboneConfigurationException">The model file is missing.</exception>
    public string ComputeIdentity() => IdentityFor(SHA256.HashData(ReadModelBytes()));

    [JsonIgnore]
    internal bool IsBuiltIn => ModelPath.StartsWith(BuiltInBackbone.ModelPathPrefix, StringComparison.Ordinal);

    /// <summary>The text hashed into the identity; one line per ingredient.</summary>
    internal string IdentityText(byte[] modelSha256) =>
        "anomaly-clustering-backbone-identity/1\n"
        + $"model-sha256={Convert.ToHexStringLower(modelSha256)}\n"
        + $"input={InputName}\n"
        + $"outputs={string.Join("\u001f", FeatureOutputs)}\n"
        + $"preprocessing={Preprocessing.CanonicalText()}\n";

    internal string IdentityFor(byte[] modelSha256) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(IdentityText(modelSha256))));

    /// <summary>The model's bytes: the file, or the generated built-in model.</summary>
    internal byte[] ReadModelBytes()
    {
        if (IsBuiltIn)
        {
            return BuiltInBackbone.CreateModel(ModelPath);
        }
        if (!File.Exists(ModelPath))
        {
            throw new BackboneConfigurationException(
                $"Model file '{ModelPath}' of backbone '{Name}' does not exist. Set modelPath to an ONNX file "
                + $"(relative paths are relative to the description file) or to '{BuiltInBackbone.ModelPath}' for the built-in backbone.");
        }
        return File.ReadAllBytes(ModelPath);
    }

    /// <summary>Validates and returns the model bytes, its signature and the feature outputs that must be exposed.</summary>
    internal ResolvedBackbone Resolve()
    {
        var problems = StaticProblems().ToList();
        if (problems.Count > 0)
        {
            throw new BackboneConfigurationException($"Backbone description '{Name}' is invalid: {string.Join("; ", problems)}.");
        }
        var bytes = ReadModelBytes();
        OnnxModelSignature signature;
        try
        {
            signature = OnnxModelInspector.Inspect(bytes);
        }
        catch (OnnxModelException e)
        {
            throw new BackboneConfigurationException($"Model '{ModelPath}' of backbone '{Name}' cannot be read: {e.Message}", e);
        }

        var input = signature.FindInput(InputName);
        if (input is null)
        {
            problems.Add($"the model has no input '{InputName}'; its inputs: {string.Join(", ", signature.Inputs)}");
        }
        else if (input.ElementType != OnnxElementType.Float || input.Shape is { Count: not 4 })
        {
            problems.Add($"input {input} must be a 4-D float tensor (NCHW)");
        }

        var toExpose = new List<string>();
        var intermediate = signature.IntermediateTensors.ToHashSet(StringComparer.Ordinal);
        foreach (var name in FeatureOutputs)
        {
            var output = signature.FindOutput(name);
            if (output is not null)
            {
                if (output.ElementType != OnnxElementType.Float)
                {
                    problems.Add($"feature output {output} must be float32");
                }
            }
            else if (intermediate.Contains(name))
            {
                toExpose.Add(name);
            }
            else
            {
                var closest = TensorNameSuggestions.Closest(name, signature.IntermediateTensors, 5);
                problems.Add($"the model has no output or computed tensor '{name}'; its outputs: "
                    + string.Join(", ", signature.Outputs.Select(o => $"'{o.Name}'"))
                    + (closest.Count > 0 ? "; closest internal tensors: " + TensorNameSuggestions.Format(closest, signature.IntermediateTensors.Count) : ""));
            }
        }
        if (problems.Count > 0)
        {
            throw new BackboneConfigurationException(
                $"Backbone description '{Name}' does not match its model '{ModelPath}': {string.Join("; ", problems)}.");
        }
        return new ResolvedBackbone(bytes, signature, toExpose);
    }

    private IEnumerable<string> StaticProblems()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            yield return "name is empty";
        }
        if (string.IsNullOrWhiteSpace(ModelPath))
        {
            yield return "modelPath is empty";
        }
        if (string.IsNullOrWhiteSpace(InputName))
        {
            yield return "inputName is empty";
        }
        if (FeatureOutputs is null || FeatureOutputs.Count == 0)
        {
            yield return "featureOutputs is empty; name at least one feature map (e.g. [\"layer2\", \"layer3\"])";
        }
        else
        {
            if (FeatureOutputs.Any(string.IsNullOrWhiteSpace))
            {
                yield return "featureOutputs has an empty name";
            }
            var duplicates = FeatureOutputs.GroupBy(o => o).Where(g => g.Count() > 1).Select(g => $"'{g.Key}'").ToList();
            if (duplicates.Count > 0)
            {
                yield return $"featureOutputs names {string.Join(", ", duplicates)} more than once";
            }
        }
        if (Preprocessing is null)
        {
            yield return "preprocessing is null";
        }
        else
        {
            foreach (var (_, problem) in Preprocessing.Problems())
            {
                yield return problem;
            }
        }
    }
}

/// <summary>A validated description's model: its bytes, its signature, and the feature outputs that are internal tensors.</summary>
internal sealed record ResolvedBackbone(byte[] ModelBytes, OnnxModelSignature Signature, IReadOnlyList<string> TensorsToExpose);

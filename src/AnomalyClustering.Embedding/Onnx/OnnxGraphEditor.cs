using AnomalyClustering.Embedding.Onnx.Protobuf;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace AnomalyClustering.Embedding.Onnx;

/// <summary>Edits ONNX graphs: makes internal tensors (e.g. an intermediate feature map) graph outputs.</summary>
public static class OnnxGraphEditor
{
    private const int SuggestionCount = 6;

    /// <summary>
    /// Returns the model with the named tensors added as graph outputs, in the order given, after the
    /// existing outputs. Each new output takes its type from the graph's value_info when present; the
    /// others are typed by ONNX Runtime's own shape inference (one session load, no inference run).
    /// Names that already are outputs are left as they are. Cost: one parse and one serialisation of the model.
    /// </summary>
    /// <exception cref="OnnxModelException">
    /// The bytes are not a model, a name is not computed by any node of the main graph (the message lists
    /// the closest names), or a name is a graph input or initializer.
    /// </exception>
    public static byte[] ExposeTensors(byte[] model, IEnumerable<string> tensorNames)
    {
        ArgumentNullException.ThrowIfNull(tensorNames);
        var proto = OnnxModelFile.Parse(model, "the model bytes");
        var wanted = tensorNames.Distinct(StringComparer.Ordinal).ToList();
        var graph = proto.Graph;

        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var computed = graph.Node.SelectMany(n => n.Output).Where(n => n.Length > 0).ToList();
        var computedSet = computed.ToHashSet(StringComparer.Ordinal);
        var notComputed = graph.Input.Select(i => i.Name).Concat(graph.Initializer.Select(t => t.Name))
            .ToHashSet(StringComparer.Ordinal);

        var problems = new List<string>();
        foreach (var name in wanted.Where(n => !outputs.Contains(n) && !computedSet.Contains(n)))
        {
            problems.Add(notComputed.Contains(name)
                ? $"'{name}' is a graph input or initializer, not a tensor computed by the graph"
                : $"no node computes '{name}'; closest tensor names: "
                  + TensorNameSuggestions.Format(TensorNameSuggestions.Closest(name, computed, SuggestionCount), computed.Count));
        }
        if (problems.Count > 0)
        {
            throw new OnnxModelException(
                $"cannot expose the tensors asked for: {string.Join("; ", problems)}. The graph computes {computed.Count} tensors "
                + "('anomaly-cluster model inspect <model> --all' lists them).");
        }

        var valueInfo = graph.ValueInfo.GroupBy(v => v.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var untyped = new List<ValueInfoProto>();
        foreach (var name in wanted.Where(n => !outputs.Contains(n)))
        {
            if (valueInfo.TryGetValue(name, out var known) && known.Type is { ValueCase: TypeProto.ValueOneofCase.TensorType, TensorType.HasElemType: true })
            {
                graph.Output.Add(known.Clone());
            }
            else
            {
                var output = new ValueInfoProto { Name = name };
                graph.Output.Add(output);
                untyped.Add(output);
            }
        }
        if (untyped.Count > 0)
        {
            TypeFromRuntimeInference(proto, untyped);
        }
        return proto.ToByteArray();
    }

    /// <summary>
    /// ONNX Runtime accepts graph outputs without a type and infers it while loading; the inferred types
    /// are written into the model so that other tools (and the ONNX checker) see a typed output.
    /// </summary>
    private static void TypeFromRuntimeInference(ModelProto model, List<ValueInfoProto> untyped)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        InferenceSession session;
        try
        {
            session = new InferenceSession(model.ToByteArray(), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxModelException(
                $"ONNX Runtime could not load the model to infer the type of {string.Join(", ", untyped.Select(u => $"'{u.Name}'"))}: {e.Message}", e);
        }
        using (session)
        {
            var inferred = session.OutputMetadata;
            foreach (var output in untyped)
            {
                var metadata = inferred[output.Name];
                if (!metadata.IsTensor)
                {
                    throw new OnnxModelException($"'{output.Name}' is a {metadata.OnnxValueType}, not a tensor; only tensors can be exposed.");
                }
                var dims = metadata.Dimensions;
                var symbols = metadata.SymbolicDimensions;
                // ORT reports an unknown rank as zero dimensions: leave the shape out rather than claim a scalar.
                IReadOnlyList<OnnxDimension>? shape = dims.Length == 0
                    ? null
                    : dims.Select((d, i) => d >= 0 ? OnnxDimension.Fixed(d)
                        : !string.IsNullOrEmpty(symbols[i]) ? OnnxDimension.Symbolic(symbols[i]) : OnnxDimension.Unknown).ToList();
                // ORT's TensorElementType numbers are ONNX's TensorProto.DataType numbers.
                var typed = OnnxModelFile.ToValueInfo(output.Name, (OnnxElementType)(int)metadata.ElementDataType, shape);
                output.Type = typed.Type;
            }
        }
    }
}

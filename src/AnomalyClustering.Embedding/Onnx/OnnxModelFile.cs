using AnomalyClustering.Embedding.Onnx.Protobuf;
using Google.Protobuf;

namespace AnomalyClustering.Embedding.Onnx;

/// <summary>Reads ONNX model files into the generated protobuf messages and converts their type descriptions.</summary>
internal static class OnnxModelFile
{
    /// <summary>Reads and parses a model file; a missing or non-ONNX file becomes an <see cref="OnnxModelException"/>.</summary>
    public static ModelProto Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new OnnxModelException($"ONNX model file '{path}' does not exist.");
        }
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses model bytes; <paramref name="source"/> names them in error messages.</summary>
    public static ModelProto Parse(byte[] model, string source)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelProto parsed;
        try
        {
            parsed = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxModelException($"{source} is not an ONNX model (protobuf parse failed: {e.Message}).", e);
        }
        // Arbitrary bytes sometimes parse as an empty message; a model always has a graph and an IR version.
        if (parsed.Graph is null || !parsed.HasIrVersion)
        {
            throw new OnnxModelException($"{source} is not an ONNX model (no graph or IR version in it).");
        }
        return parsed;
    }

    /// <summary>The element type and shape a value info states (Undefined / null shape when it states none).</summary>
    public static OnnxTensorInfo ToTensorInfo(ValueInfoProto value)
    {
        if (value.Type is not { ValueCase: TypeProto.ValueOneofCase.TensorType } type)
        {
            return new OnnxTensorInfo(value.Name, OnnxElementType.Undefined, null);
        }
        var tensor = type.TensorType;
        var elementType = tensor.HasElemType ? (OnnxElementType)tensor.ElemType : OnnxElementType.Undefined;
        if (tensor.Shape is null)
        {
            return new OnnxTensorInfo(value.Name, elementType, null);
        }
        var dims = new OnnxDimension[tensor.Shape.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            var dim = tensor.Shape.Dim[i];
            dims[i] = dim.ValueCase switch
            {
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => OnnxDimension.Fixed(dim.DimValue),
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => OnnxDimension.Symbolic(dim.DimParam),
                _ => OnnxDimension.Unknown,
            };
        }
        return new OnnxTensorInfo(value.Name, elementType, dims);
    }

    /// <summary>A value info for a tensor of this element type and shape (null shape: rank unknown).</summary>
    public static ValueInfoProto ToValueInfo(string name, OnnxElementType elementType, IReadOnlyList<OnnxDimension>? shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)elementType };
        if (shape is not null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (var dim in shape)
            {
                var protoDim = new TensorShapeProto.Types.Dimension();
                if (dim.Value is long value)
                {
                    protoDim.DimValue = value;
                }
                else if (!string.IsNullOrEmpty(dim.Symbol))
                {
                    protoDim.DimParam = dim.Symbol;
                }
                tensor.Shape.Dim.Add(protoDim);
            }
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    /// <summary>Graph inputs that are not initializers (IR &lt; 4 lists initializers among the inputs).</summary>
    public static IEnumerable<ValueInfoProto> FedInputs(GraphProto graph)
    {
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return graph.Input.Where(i => !initializers.Contains(i.Name));
    }
}

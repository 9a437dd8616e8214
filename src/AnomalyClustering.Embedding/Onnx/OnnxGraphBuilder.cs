using System.Buffers.Binary;
using AnomalyClustering.Embedding.Onnx.Protobuf;
using Google.Protobuf;

namespace AnomalyClustering.Embedding.Onnx;

/// <summary>Builds small ONNX models in code (inputs, float initializers, nodes, outputs); the same calls give the same bytes.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph;

    public OnnxGraphBuilder(string graphName) => _graph = new GraphProto { Name = graphName };

    public void AddInput(string name, OnnxElementType elementType, IReadOnlyList<OnnxDimension> shape) =>
        _graph.Input.Add(OnnxModelFile.ToValueInfo(name, elementType, shape));

    public void AddOutput(string name, OnnxElementType elementType, IReadOnlyList<OnnxDimension>? shape) =>
        _graph.Output.Add(OnnxModelFile.ToValueInfo(name, elementType, shape));

    /// <summary>Declares the type of an internal tensor (graph value_info), as exporters do.</summary>
    public void AddValueInfo(string name, OnnxElementType elementType, IReadOnlyList<OnnxDimension>? shape) =>
        _graph.ValueInfo.Add(OnnxModelFile.ToValueInfo(name, elementType, shape));

    /// <summary>A float32 constant stored as little-endian raw data, whatever the machine's byte order.</summary>
    public void AddInitializer(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }
        AddRawInitializer(name, TensorProto.Types.DataType.Float, bytes, dims);
    }

    /// <summary>A one-dimensional int64 constant (shapes, axes) stored as little-endian raw data.</summary>
    public void AddInt64Initializer(string name, params long[] values)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), values[i]);
        }
        AddRawInitializer(name, TensorProto.Types.DataType.Int64, bytes, values.Length);
    }

    /// <summary>A float64 scalar constant stored as little-endian raw data.</summary>
    public void AddDoubleScalar(string name, double value)
    {
        var bytes = new byte[sizeof(double)];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
        AddRawInitializer(name, TensorProto.Types.DataType.Double, bytes);
    }

    private void AddRawInitializer(string name, TensorProto.Types.DataType dataType, byte[] littleEndian, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)dataType, RawData = UnsafeByteOperations.UnsafeWrap(littleEndian) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
    }

    public void AddNode(string opType, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>The serialised model: IR version 8, default-domain operator set <paramref name="opsetVersion"/>.</summary>
    public byte[] Build(string producerVersion, string docString, long opsetVersion = 13)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "AnomalyClustering",
            ProducerVersion = producerVersion,
            DocString = docString,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opsetVersion });
        return model.ToByteArray();
    }
}

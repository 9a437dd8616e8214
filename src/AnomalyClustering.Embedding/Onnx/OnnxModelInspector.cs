using AnomalyClustering.Embedding.Onnx.Protobuf;

namespace AnomalyClustering.Embedding.Onnx;

/// <summary>Reads what an ONNX model takes and gives (names, element types, shapes with symbolic dimensions) without running it.</summary>
public static class OnnxModelInspector
{
    /// <summary>The signature of the model file at <paramref name="path"/>. Cost: one parse of the file, O(file size).</summary>
    /// <exception cref="OnnxModelException">The file is missing or is not an ONNX model.</exception>
    public static OnnxModelSignature Inspect(string path) => Describe(OnnxModelFile.Read(path));

    /// <summary>The signature of a model held in memory.</summary>
    /// <exception cref="OnnxModelException">The bytes are not an ONNX model.</exception>
    public static OnnxModelSignature Inspect(byte[] model) => Describe(OnnxModelFile.Parse(model, "the model bytes"));

    internal static OnnxModelSignature Describe(ModelProto model)
    {
        var graph = model.Graph;
        var inputs = OnnxModelFile.FedInputs(graph).Select(OnnxModelFile.ToTensorInfo).ToList();
        var outputs = graph.Output.Select(OnnxModelFile.ToTensorInfo).ToList();
        var outputNames = outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var intermediate = graph.Node
            .SelectMany(n => n.Output)
            .Where(name => name.Length > 0 && !outputNames.Contains(name))
            .ToList();
        var opset = model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx")
            .Select(o => o.Version).DefaultIfEmpty(0).Max();
        return new OnnxModelSignature(inputs, outputs, intermediate, model.IrVersion, opset);
    }
}

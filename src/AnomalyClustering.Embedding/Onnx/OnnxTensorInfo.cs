using System.Globalization;

namespace AnomalyClustering.Embedding.Onnx;

/// <summary>Element types of ONNX tensors; the numbers are ONNX's own (TensorProto.DataType).</summary>
public enum OnnxElementType
{
    /// <summary>Not stated in the model.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>UTF-8 string.</summary>
    String = 8,
    /// <summary>Boolean.</summary>
    Bool = 9,
    /// <summary>16-bit IEEE float.</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Complex of two 32-bit floats.</summary>
    Complex64 = 14,
    /// <summary>Complex of two 64-bit floats.</summary>
    Complex128 = 15,
    /// <summary>Brain float (8-bit exponent, 7-bit mantissa).</summary>
    BFloat16 = 16,
}

/// <summary>One dimension of a tensor shape: a fixed size, a named symbolic size (e.g. "batch"), or unknown.</summary>
/// <param name="Value">The fixed size, or null when the size is symbolic or unknown.</param>
/// <param name="Symbol">The symbolic name (ONNX dim_param), or null.</param>
public readonly record struct OnnxDimension(long? Value, string? Symbol)
{
    /// <summary>A fixed size.</summary>
    public static OnnxDimension Fixed(long value) => new(value, null);

    /// <summary>A named size that is fixed only when the model runs.</summary>
    public static OnnxDimension Symbolic(string symbol) => new(null, symbol);

    /// <summary>A size the model does not state.</summary>
    public static OnnxDimension Unknown => new(null, null);

    /// <summary>True when the size is a fixed number.</summary>
    public bool IsFixed => Value.HasValue;

    /// <summary>The number, the symbol, or "?".</summary>
    public override string ToString() =>
        Value?.ToString(CultureInfo.InvariantCulture) ?? (string.IsNullOrEmpty(Symbol) ? "?" : Symbol);
}

/// <summary>A named tensor of a model's graph with its element type and shape (null shape: rank unknown).</summary>
/// <param name="Name">The tensor's name in the graph.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Shape">Its dimensions in order, or null when the model does not state the rank.</param>
public sealed record OnnxTensorInfo(string Name, OnnxElementType ElementType, IReadOnlyList<OnnxDimension>? Shape)
{
    /// <summary>Like <c>input: Float[batch,3,height,width]</c>.</summary>
    public override string ToString() =>
        $"{Name}: {ElementType}" + (Shape is null ? "[rank unknown]" : "[" + string.Join(",", Shape) + "]");
}

/// <summary>What a model takes and gives: graph inputs (initializers excluded), graph outputs, and the other computed tensors.</summary>
/// <param name="Inputs">Graph inputs that a caller feeds.</param>
/// <param name="Outputs">Graph outputs in graph order.</param>
/// <param name="IntermediateTensors">Names of tensors computed by nodes of the main graph that are not graph outputs, in node order; <see cref="OnnxGraphEditor.ExposeTensors"/> can make any of them an output.</param>
/// <param name="IrVersion">The ONNX IR version of the file.</param>
/// <param name="OpsetVersion">The version of the default (ai.onnx) operator set, 0 when not imported.</param>
public sealed record OnnxModelSignature(
    IReadOnlyList<OnnxTensorInfo> Inputs,
    IReadOnlyList<OnnxTensorInfo> Outputs,
    IReadOnlyList<string> IntermediateTensors,
    long IrVersion,
    long OpsetVersion)
{
    /// <summary>The input with this name, or null.</summary>
    public OnnxTensorInfo? FindInput(string name) => Inputs.FirstOrDefault(t => t.Name == name);

    /// <summary>The output with this name, or null.</summary>
    public OnnxTensorInfo? FindOutput(string name) => Outputs.FirstOrDefault(t => t.Name == name);
}

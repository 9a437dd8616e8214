using System.CommandLine;
using AnomalyClustering.Embedding.Onnx;
using Spectre.Console;

namespace AnomalyClustering.Cli.Commands;

/// <summary><c>model inspect</c> and <c>model expose</c>: look into an ONNX backbone and make internal tensors usable as feature maps.</summary>
internal static class ModelCommand
{
    /// <summary>Builds the <c>model</c> command with its two subcommands.</summary>
    public static Command Create(CliConsole console) =>
        new("model", "Inspect an ONNX model or expose its internal tensors as outputs.")
        {
            CreateInspect(console),
            CreateExpose(console),
        };

    private static Command CreateInspect(CliConsole console)
    {
        var model = new Argument<string>("model") { Description = "The ONNX file.", HelpName = "MODEL.onnx" };
        var all = new Option<bool>("--all") { Description = "List every internal tensor, not only the first 20." };
        var command = new Command("inspect", "List a model's inputs and outputs with their shapes, and the internal tensors that 'model expose' can add.") { model, all };
        command.SetAction(parseResult =>
        {
            var path = RequireFile(parseResult.GetValue(model)!);
            var signature = OnnxModelInspector.Inspect(path);
            var out_ = console.Out;
            out_.MarkupLine($"[bold]{Markup.Escape(path)}[/]: ONNX IR version {signature.IrVersion}, opset {signature.OpsetVersion}");
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn("kind");
            table.AddColumn("name");
            table.AddColumn("type");
            table.AddColumn("shape");
            foreach (var (kind, tensors) in new[] { ("input", signature.Inputs), ("output", signature.Outputs) })
            {
                foreach (var tensor in tensors)
                {
                    var shape = tensor.Shape is null ? "rank unknown" : "[" + string.Join(", ", tensor.Shape) + "]";
                    table.AddRow(kind, Markup.Escape(tensor.Name), tensor.ElementType.ToString(), Markup.Escape(shape));
                }
            }
            out_.Write(table);
            var internals = signature.IntermediateTensors;
            var shown = parseResult.GetValue(all) ? internals : internals.Take(20).ToList();
            out_.MarkupLine($"{internals.Count} internal tensors" + (internals.Count > 0 ? " (expose one with 'anomaly-cluster model expose MODEL.onnx --tensor NAME -o OUT.onnx'):" : "."));
            foreach (var name in shown)
            {
                out_.MarkupLine($"  {Markup.Escape(name)}");
            }
            if (shown.Count < internals.Count)
            {
                out_.MarkupLine($"  ... {internals.Count - shown.Count} more (--all lists them)");
            }
            return CliExitCodes.Success;
        });
        return command;
    }

    private static Command CreateExpose(CliConsole console)
    {
        var model = new Argument<string>("model") { Description = "The ONNX file.", HelpName = "MODEL.onnx" };
        var tensors = new Option<string[]>("--tensor", "-t") { Description = "An internal tensor to add as a graph output (repeat for several).", Required = true, HelpName = "NAME" };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the edited model.", Required = true, HelpName = "OUT.onnx" };
        var command = new Command("expose", "Write a copy of the model with internal tensors added as outputs, so they can be used as feature maps.") { model, tensors, output };
        command.SetAction(parseResult =>
        {
            var path = RequireFile(parseResult.GetValue(model)!);
            var names = parseResult.GetValue(tensors)!;
            var destination = parseResult.GetValue(output)!;
            if (Path.GetFullPath(destination) == Path.GetFullPath(path))
            {
                throw new CliInputException("the output would overwrite the input model; choose another -o path.");
            }
            var edited = OnnxGraphEditor.ExposeTensors(File.ReadAllBytes(path), names);
            var folder = Path.GetDirectoryName(Path.GetFullPath(destination))!;
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(destination, edited);
            var signature = OnnxModelInspector.Inspect(edited);
            console.Out.MarkupLine($"wrote [blue]{Markup.Escape(destination)}[/]; its outputs:");
            foreach (var tensor in signature.Outputs)
            {
                console.Out.MarkupLine($"  {Markup.Escape(tensor.ToString())}");
            }
            return CliExitCodes.Success;
        });
        return command;
    }

    private static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new CliInputException($"model file '{path}' does not exist.");
}

using System.Diagnostics;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Embedding.Backbones;

namespace AnomalyClustering.GpuCheck;

/// <summary>
/// Runs the backbone check, then the nearest-patch check, each on the provider asked for (CUDA on a GPU worker) and on the
/// CPU provider of the same machine, so every speed is a ratio measured in one run.
/// </summary>
internal static class DeviceChecks
{
    public static int Run(string[] args)
    {
        var inputs = Option(args, "--inputs", "");
        var model = Option(args, "--model", "");
        if (inputs.Length == 0 || model.Length == 0)
        {
            Console.Error.WriteLine("run needs --inputs INPUTS.f32 and --model MODEL.onnx");
            return 2;
        }
        var provider = Provider(args);
        var seconds = Seconds(args);
        var references = Option(args, "--references", "16,64,256").Split(',').Select(int.Parse).ToArray();
        var profile = Option(args, "--profile", "");
        var device = new BackboneRuntimeOptions { ExecutionProvider = provider, AllowTf32 = !args.Contains("--no-tf32") };
        var cpu = new BackboneRuntimeOptions { IntraOpThreads = Environment.ProcessorCount };
        Console.WriteLine($"gpu-check: provider {provider}{Tf32Text(device)}, {Environment.ProcessorCount} CPU cores, .NET {Environment.Version}");

        var bags = BackboneCheck.Run(InputTensors.Read(inputs), model, device, cpu, seconds);
        NearestPatchCheck.Run(bags, references, device, seconds);
        if (profile.Length > 0)
        {
            // Once more with ONNX Runtime's profiler (it slows every run): where the graph's time goes, node by node.
            Directory.CreateDirectory(profile);
            NearestPatchCheck.Run(bags, [references.Max()], device with { ProfileFilePrefix = Path.Combine(profile, "nearest") }, seconds);
            ProfileSummary.Print(profile, "nearest");
            var (rows, dimension, patches) = (bags[0].PatchCount, bags[0].Dimension, bags[0].PatchCount);
            foreach (var groups in new[] { references.Min(), references.Max() })
            {
                ArgMinVariants.Run(rows, dimension, groups, patches, device, seconds);
            }
        }
        return 0;
    }

    /// <summary>The clustering check: the two-stage method's k-means assignment on the device against the SIMD kernel.</summary>
    public static int RunClustering(string[] args)
    {
        var provider = Provider(args);
        var points = int.Parse(Option(args, "--points", "1000000"), System.Globalization.CultureInfo.InvariantCulture);
        var dimension = int.Parse(Option(args, "--dimension", "256"), System.Globalization.CultureInfo.InvariantCulture);
        var components = int.Parse(Option(args, "--components", "10"), System.Globalization.CultureInfo.InvariantCulture);
        var device = new BackboneRuntimeOptions { ExecutionProvider = provider, IntraOpThreads = Environment.ProcessorCount, AllowTf32 = !args.Contains("--no-tf32") };
        Console.WriteLine($"gpu-check cluster: provider {provider}{Tf32Text(device)}, {Environment.ProcessorCount} CPU cores, .NET {Environment.Version}");
        CentreAssignmentCheck.Run(points, dimension, components, device, Seconds(args));
        return 0;
    }

    /// <summary>Best (shortest) wall time of runs of <paramref name="action"/> for at least <paramref name="seconds"/> and 3 runs, after one warm-up.</summary>
    public static (double Best, double Median, int Runs) Time(Action action, double seconds)
    {
        action();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 3 || total.Elapsed.TotalSeconds < seconds)
        {
            var one = Stopwatch.StartNew();
            action();
            times.Add(one.Elapsed.TotalSeconds);
        }
        times.Sort();
        return (times[0], times[times.Count / 2], times.Count);
    }

    /// <summary>The largest |a - b| over the largest |a|: the difference on the scale of the values.</summary>
    public static double ScaledDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double largest = 0, difference = 0;
        for (var i = 0; i < a.Length; i++)
        {
            largest = Math.Max(largest, Math.Abs(a[i]));
            difference = Math.Max(difference, Math.Abs(a[i] - b[i]));
        }
        return largest == 0 ? difference : difference / largest;
    }

    private static ExecutionProviderKind Provider(string[] args) => Option(args, "--provider", "cuda") switch
    {
        "cpu" => ExecutionProviderKind.Cpu,
        "cuda" => ExecutionProviderKind.Cuda,
        "tensorrt" => ExecutionProviderKind.TensorRt,
        var other => throw new ArgumentException($"unknown provider '{other}': cpu, cuda or tensorrt"),
    };

    private static string Tf32Text(BackboneRuntimeOptions device) => device.ExecutionProvider == ExecutionProviderKind.Cpu ? "" : device.AllowTf32 ? " (TF32 allowed)" : " (TF32 off)";

    private static double Seconds(string[] args) => double.Parse(Option(args, "--seconds", "3"), System.Globalization.CultureInfo.InvariantCulture);

    private static string Option(string[] args, string name, string fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}

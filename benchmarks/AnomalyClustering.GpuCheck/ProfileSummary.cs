using System.Text.Json;

namespace AnomalyClustering.GpuCheck;

/// <summary>ONNX Runtime's profile files (Chrome trace JSON): each operator's total kernel time and execution provider.</summary>
internal static class ProfileSummary
{
    public static void Print(string folder, string prefix)
    {
        foreach (var file in Directory.EnumerateFiles(folder, prefix + "*.json").Order(StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            var nodes = document.RootElement.EnumerateArray()
                .Where(e => e.TryGetProperty("cat", out var cat) && cat.GetString() == "Node" && e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
                .Select(e => (
                    Op: e.GetProperty("args").TryGetProperty("op_name", out var op) ? op.GetString()! : "?",
                    Provider: e.GetProperty("args").TryGetProperty("provider", out var provider) ? provider.GetString()! : "?",
                    Microseconds: e.GetProperty("dur").GetDouble()))
                .GroupBy(n => (n.Op, n.Provider))
                .Select(g => (g.Key.Op, g.Key.Provider, Total: g.Sum(n => n.Microseconds), Count: g.Count()))
                .OrderByDescending(n => n.Total)
                .ToList();
            var all = nodes.Sum(n => n.Total);
            Console.WriteLine($"  profile {Path.GetFileName(file)}: " + string.Join("; ", nodes.Select(n =>
                $"{n.Op} on {n.Provider} {n.Total / 1e3:F1} ms in {n.Count} runs ({n.Total / Math.Max(all, 1):P0})")));
        }
    }
}

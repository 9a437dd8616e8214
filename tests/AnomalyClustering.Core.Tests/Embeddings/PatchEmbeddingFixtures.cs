using System.Text.Json;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Interop;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Core.Tests.Embeddings;

/// <summary>The cases written by tools/fixtures/gen_patch_embeddings.py (torch reference pipeline).</summary>
internal static class PatchEmbeddingFixtures
{
    public sealed record Case(
        string Name, FeatureMap[] Layers, PatchEmbeddingOptions Options, double[] Expected, int Rows, int Columns);

    public static IEnumerable<string> Names()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("patch_embeddings", "cases.json")));
        return document.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
    }

    public static Case Load(string name)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("patch_embeddings", "cases.json")));
        var json = document.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var layers = json.GetProperty("layers").EnumerateArray().Select(layer =>
        {
            var array = NpyArray.Parse(File.ReadAllBytes(TestPaths.Fixture("patch_embeddings", layer.GetProperty("file").GetString()!)));
            var (c, h, w) = (layer.GetProperty("channels").GetInt32(), layer.GetProperty("height").GetInt32(), layer.GetProperty("width").GetInt32());
            Assert.Equal([c, h, w], array.Shape);
            return new FeatureMap(array.ToSingles(), c, h, w);
        }).ToArray();
        var options = new PatchEmbeddingOptions
        {
            LayerNorm = json.GetProperty("layer_norm").GetBoolean(),
            PretrainDimension = json.GetProperty("pretrain_dimension").GetInt32(),
            TargetDimension = json.GetProperty("target_dimension").GetInt32(),
            NeighbourhoodSize = json.GetProperty("neighbourhood_size").GetInt32(),
        };
        var expected = NpyArray.Parse(File.ReadAllBytes(TestPaths.Fixture("patch_embeddings", json.GetProperty("expected").GetString()!)));
        return new Case(name, layers, options, expected.ToDoubles(), expected.Shape[0], expected.Shape[1]);
    }
}

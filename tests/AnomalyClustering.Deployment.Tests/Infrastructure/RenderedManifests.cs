using k8s;
using k8s.Models;

namespace AnomalyClustering.Deployment.Tests.Infrastructure;

/// <summary>The Kubernetes objects one render produced (kustomize or helm), parsed into the client library's typed models.</summary>
internal sealed class RenderedManifests
{
    /// <summary>The label every AnomalyClustering silo pod carries with the role as value.</summary>
    public const string ComponentLabel = "app.kubernetes.io/component";

    private RenderedManifests(string source, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> objects)
    {
        Source = source;
        Objects = objects;
    }

    /// <summary>What produced the objects (the command line), for failure messages.</summary>
    public string Source { get; }

    /// <summary>Every object, in output order.</summary>
    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Objects { get; }

    /// <summary>Parses a multi-document YAML stream; an unknown kind or a malformed document fails the test.</summary>
    public static RenderedManifests Parse(string source, string yaml)
    {
        var objects = KubernetesYaml.LoadAllFromString(yaml)
            .Where(o => o is not null)
            .Select(o => o as IKubernetesObject<V1ObjectMeta>
                         ?? throw new InvalidDataException($"{source}: {o.GetType().Name} is not a Kubernetes object with metadata."))
            .ToList();
        Assert.True(objects.Count > 0, $"{source} produced no objects.");
        return new RenderedManifests(source, objects);
    }

    /// <summary>The objects of one model type.</summary>
    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    /// <summary>The (apiVersion, kind) pairs present.</summary>
    public IReadOnlySet<string> ApiKinds => Objects.Select(o => $"{o.ApiVersion}/{o.Kind}").ToHashSet(StringComparer.Ordinal);

    /// <summary>The silo Deployment of one role (coordinator, gpu-worker), found by its pod template's component label.</summary>
    public V1Deployment Silo(string component)
    {
        var matches = All<V1Deployment>()
            .Where(d => d.Spec.Template.Metadata.Labels is { } labels
                        && labels.TryGetValue(ComponentLabel, out var value) && value == component)
            .ToList();
        Assert.True(matches.Count == 1, $"{Source}: expected one Deployment with {ComponentLabel}={component}, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>The silo Deployments of both roles.</summary>
    public IEnumerable<V1Deployment> Silos => [Silo("coordinator"), Silo("gpu-worker")];

    /// <summary>A ConfigMap by name, or null.</summary>
    public V1ConfigMap? ConfigMap(string name) => All<V1ConfigMap>().SingleOrDefault(c => c.Metadata.Name == name);

    /// <summary>A Secret by name, or null (production's Secret is created by the operator, not rendered).</summary>
    public V1Secret? Secret(string name) => All<V1Secret>().SingleOrDefault(s => s.Metadata.Name == name);

    /// <summary>A Service by name, or null.</summary>
    public V1Service? Service(string name) => All<V1Service>().SingleOrDefault(s => s.Metadata.Name == name);

    /// <summary>The keys a Secret defines, whether given as data or as stringData.</summary>
    public static IReadOnlySet<string> KeysOf(V1Secret secret) =>
        (secret.Data?.Keys ?? Enumerable.Empty<string>())
        .Concat(secret.StringData?.Keys ?? Enumerable.Empty<string>())
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>A Secret's value, from stringData or decoded data; null when absent.</summary>
    public static string? ValueOf(V1Secret secret, string key) =>
        secret.StringData is { } text && text.TryGetValue(key, out var plain) ? plain
        : secret.Data is { } data && data.TryGetValue(key, out var bytes) ? System.Text.Encoding.UTF8.GetString(bytes)
        : null;
}

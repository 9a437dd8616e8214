using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AnomalyClustering.Deployment.Tests.Infrastructure;

namespace AnomalyClustering.Deployment.Tests.Docker;

/// <summary>
/// Dockerfile.silo and Dockerfile.gpu-worker, checked statically (no Docker engine on these machines): what they copy is in
/// the build context, they build the host project OPS_CONTRACT names, and the image that ships is small, non-root and
/// health-checked.
/// </summary>
public sealed partial class DockerfileTests
{
    /// <summary>The host project both images publish (OPS_CONTRACT).</summary>
    private const string SiloProject = "src/AnomalyClustering.Silo/AnomalyClustering.Silo.csproj";

    /// <summary>The MSBuild property that swaps in Microsoft.ML.OnnxRuntime.Gpu.</summary>
    private const string GpuProperty = "-p:UseOnnxRuntimeGpu=true";

    /// <summary>The MSBuild property that publishes precompiled (ReadyToRun) code.</summary>
    private const string ReadyToRunProperty = "-p:PublishReadyToRun=true";

    public static TheoryData<string> Dockerfiles => ["Dockerfile.silo", "Dockerfile.gpu-worker"];

    private static Dockerfile Load(string name) => Dockerfile.Parse(Repository.ReadText(name));

    private static DockerIgnore Ignore => new(Repository.ReadText(".dockerignore"));

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_copy_source_exists_and_is_in_the_build_context(string name)
    {
        var dockerfile = Load(name);
        var stageNames = dockerfile.Stages.Select(s => s.Name).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var copiedFromContext = 0;
        foreach (var stage in dockerfile.Stages)
        {
            Assert.Empty(stage.Where("ADD"));
            foreach (var copy in stage.Where("COPY"))
            {
                var (options, sources) = Dockerfile.CopyParts(copy);
                Assert.NotEmpty(sources);
                if (options.TryGetValue("from", out var from))
                {
                    Assert.True(stageNames.Contains(from) || from.Contains('/', StringComparison.Ordinal),
                        $"{name} line {copy.Line}: COPY --from={from} names no stage and no image.");
                    continue;
                }
                foreach (var source in sources)
                {
                    var relative = source.TrimEnd('/');
                    Assert.False(relative.Contains('*', StringComparison.Ordinal) || relative.StartsWith("..", StringComparison.Ordinal),
                        $"{name} line {copy.Line}: {source} must be a plain path inside the repository.");
                    var path = Repository.PathOf(relative);
                    Assert.True(File.Exists(path) || Directory.Exists(path), $"{name} line {copy.Line}: COPY source {source} does not exist.");
                    Assert.False(Ignore.Excludes(relative), $"{name} line {copy.Line}: {source} is excluded by .dockerignore.");
                    copiedFromContext++;
                }
            }
        }
        // OPS_CONTRACT: the build copies the repository-wide build settings and src/.
        foreach (var required in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props", "src" })
        {
            Assert.Contains(dockerfile.Stages.SelectMany(s => s.Where("COPY")),
                c => Dockerfile.CopyParts(c).Sources.Any(s => s.TrimEnd('/') == required));
        }
        Assert.True(copiedFromContext >= 4);
        // Every project under src/ reaches the build (the host references them).
        foreach (var project in Directory.EnumerateFiles(Repository.PathOf("src"), "*.csproj", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Repository.Root, project).Replace('\\', '/');
            Assert.False(Ignore.Excludes(relative), $".dockerignore excludes {relative}.");
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Build_stage_restores_and_publishes_the_silo_project(string name)
    {
        var dockerfile = Load(name);
        var build = Assert.Single(dockerfile.Stages, s => s.Where("RUN").Any(r => r.Arguments.Contains("dotnet publish", StringComparison.Ordinal)));
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", build.Image);
        var commands = build.Where("RUN").SelectMany(r => DotnetCommand().Matches(r.Arguments)).ToList();
        Assert.Contains(commands, c => c.Groups[1].Value == "restore");
        Assert.Contains(commands, c => c.Groups[1].Value == "publish");
        foreach (var command in commands)
        {
            Assert.Equal(SiloProject, command.Groups[2].Value);
            var gpu = command.Value.Contains(GpuProperty, StringComparison.Ordinal);
            Assert.True(gpu == (name == "Dockerfile.gpu-worker"),
                $"{name}: `dotnet {command.Groups[1].Value}` must {(gpu ? "not " : "")}pass {GpuProperty} (restore and publish must agree).");
            Assert.True(command.Value.Contains(ReadyToRunProperty, StringComparison.Ordinal),
                $"{name}: `dotnet {command.Groups[1].Value}` must pass {ReadyToRunProperty} (restore brings the crossgen package publish needs).");
        }
        Assert.True(File.Exists(Repository.PathOf(SiloProject)),
            $"{name} publishes {SiloProject}, which does not exist (the host project of OPS_CONTRACT).");

        // The entry point runs the host's assembly: the project's AssemblyName, else its file name.
        var assemblyName = XDocument.Load(Repository.PathOf(SiloProject)).Descendants("AssemblyName").FirstOrDefault()?.Value
                           ?? Path.GetFileNameWithoutExtension(SiloProject);
        Assert.Equal(["dotnet", assemblyName + ".dll"], Dockerfile.Words(Assert.Single(dockerfile.Final.Where("ENTRYPOINT")).Arguments));
        Assert.Equal("AnomalyClustering.Silo", assemblyName);
    }

    [Fact]
    public void The_gpu_switch_is_an_msbuild_property_the_build_knows()
    {
        var buildFiles = new[] { "Directory.Build.props", "Directory.Packages.props" }.Select(Repository.PathOf)
            .Concat(Directory.EnumerateFiles(Repository.PathOf("src"), "*.*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".csproj", StringComparison.Ordinal) || f.EndsWith(".props", StringComparison.Ordinal)
                            || f.EndsWith(".targets", StringComparison.Ordinal)))
            .Where(File.Exists);
        Assert.True(buildFiles.Any(f => File.ReadAllText(f).Contains("UseOnnxRuntimeGpu", StringComparison.Ordinal)),
            "Dockerfile.gpu-worker passes -p:UseOnnxRuntimeGpu=true, but no project or props file under src/ reads UseOnnxRuntimeGpu.");
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Shipped_stage_is_a_runtime_image_run_as_non_root_with_a_health_check(string name)
    {
        var dockerfile = Load(name);
        Assert.True(dockerfile.Stages.Count >= 2, $"{name} must be multi-stage (the SDK stays out of the shipped image).");
        var final = dockerfile.Final;
        Assert.DoesNotContain("/sdk", final.Image, StringComparison.Ordinal);
        if (name == "Dockerfile.silo")
        {
            Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0", final.Image);
        }
        else
        {
            // CUDA 13: ONNX Runtime GPU 1.31's CUDA provider links libcublas.so.13 and libcudart.so.13 (Dockerfile.gpu-worker).
            Assert.Matches(@"^nvidia/cuda:13\.\d+(\.\d+)?-cudnn-runtime-ubuntu(22|24)\.04$", final.Image);
            // The ASP.NET Core runtime comes from Microsoft's image into the CUDA one.
            var aspnet = Assert.Single(dockerfile.Stages, s => s.Image == "mcr.microsoft.com/dotnet/aspnet:10.0");
            Assert.Contains(final.Where("COPY"), c => Dockerfile.CopyParts(c).Options.GetValueOrDefault("from") == aspnet.Name
                                                     && Dockerfile.CopyParts(c).Sources.Contains("/usr/share/dotnet"));
        }

        var installed = string.Join(' ', final.Where("RUN").Select(r => r.Arguments));
        Assert.Contains("libfontconfig1", installed, StringComparison.Ordinal);
        Assert.Contains("--no-install-recommends", installed, StringComparison.Ordinal);
        Assert.Contains("rm -rf /var/lib/apt/lists", installed, StringComparison.Ordinal);

        var user = Assert.Single(final.Where("USER")).Arguments;
        Assert.DoesNotMatch(@"^(root|0)(:|$)", user);
        Assert.True(final.Instructions.ToList().FindLastIndex(i => i.Keyword == "USER")
                    > final.Instructions.ToList().FindLastIndex(i => i.Keyword == "RUN"),
            $"{name}: USER must come after the last RUN, so the container does not run as root.");

        var healthCheck = Assert.Single(final.Where("HEALTHCHECK")).Arguments;
        Assert.Contains("http://localhost:8080/health/live", healthCheck, StringComparison.Ordinal);
        var probe = Regex.Match(healthCheck, @"CMD\s+(curl|wget)\b");
        Assert.True(probe.Success, $"{name}: the HEALTHCHECK must call curl or wget.");
        Assert.Matches($@"apt-get install[^&]*\b{probe.Groups[1].Value}\b", installed);

        var exposed = final.Where("EXPOSE").SelectMany(e => Dockerfile.Words(e.Arguments)).ToHashSet();
        Assert.Superset(new HashSet<string> { "8080", "11111", "30000" }, exposed);
        Assert.Contains(final.Where("ENV"), e => e.Arguments.Contains("ASPNETCORE_HTTP_PORTS=8080", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(SiloProject)]
    [InlineData("src/AnomalyClustering.Cli/AnomalyClustering.Cli.csproj")]
    public void Hosts_run_without_dynamic_pgo_and_without_tiering_when_published_ready_to_run(string project)
    {
        // The JIT settings docs/BENCHMARKS.md measured: as built (dotnet run, the tests) tiering stays on for a quick
        // start; published ReadyToRun, as the images are, the code is precompiled and tiering is off.
        Assert.Equal(("false", ""), JitSettings(project));
        Assert.Equal(("false", "false"), JitSettings(project, ReadyToRunProperty));
    }

    private static (string TieredPgo, string TieredCompilation) JitSettings(string project, params string[] properties)
    {
        var output = ExternalTool.Dotnet.Run("it evaluates the host projects.",
            ["msbuild", Repository.PathOf(project), "-getProperty:TieredPGO", "-getProperty:TieredCompilation", .. properties]);
        var values = JsonDocument.Parse(output).RootElement.GetProperty("Properties");
        return (values.GetProperty("TieredPGO").GetString()!, values.GetProperty("TieredCompilation").GetString()!);
    }

    [Fact]
    public void Dockerignore_keeps_build_outputs_and_repository_metadata_out_but_sources_in()
    {
        var ignore = Ignore;
        Assert.True(ignore.Excludes("src/AnomalyClustering.Core/bin/Release/net10.0/AnomalyClustering.Core.dll"));
        Assert.True(ignore.Excludes("src/AnomalyClustering.Core/obj/project.assets.json"));
        Assert.True(ignore.Excludes(".git/config"));
        Assert.True(ignore.Excludes("tests/AnomalyClustering.Core.Tests/GuardTests.cs"));
        Assert.False(ignore.Excludes("src/AnomalyClustering.Core/AnomalyClustering.Core.csproj"));
        Assert.False(ignore.Excludes("src/AnomalyClustering.Core/Validation/Guard.cs"));
        Assert.False(ignore.Excludes("global.json"));
    }

    [GeneratedRegex(@"dotnet\s+(restore|publish|build)\s+(\S+)[^;&]*")]
    private static partial Regex DotnetCommand();
}

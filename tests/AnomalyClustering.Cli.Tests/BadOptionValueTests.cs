using System.Text.RegularExpressions;
using AnomalyClustering.Cli.Demo;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// Every number-valued option of <c>cluster</c> given a value out of its range, and one that is no number at all: each is a
/// one-line usage error in the user's words. None may carry what .NET writes into its own messages: a parameter tail,
/// a type name (<c>System.Nullable`1[System.Int32]</c>), an empty "()", or a C# member name (<c>PretrainDimension</c>).
/// </summary>
public sealed partial class BadOptionValueTests : IClassFixture<BadOptionValueTests.TwoClassFolder>
{
    private readonly TwoClassFolder images;

    public BadOptionValueTests(TwoClassFolder images) => this.images = images;

    public static TheoryData<string, string> OutOfRange => new()
    {
        { "--tau", "-1" },
        { "--refs", "-1" },
        { "--normal-limit", "-1" },
        { "--pretrain-dim", "-1" },
        { "--pretrain-dim", "0" },
        { "--target-dim", "0" },
        { "--batch-size", "0" },
        { "--max-image-dimension", "0" },
        { "--threads", "-1" },
        { "--resize", "-1" },
        { "--crop", "0" },
        { "--clusters", "-1" },
        { "--clusters", "many" },
        { "--min-clusters", "-1" },
        { "--max-clusters", "1" },
        { "--distance-threshold", "-1" },
        { "--memory-budget", "-1" },
        { "--mode", "supervised" },
        { "--linkage", "centroid" },
        { "--execution-provider", "tpu" },
        { "--resize-mode", "fill" },
        { "--cluster-criterion", "elbow" },
        { "--algorithm", "fastest" },
    };

    public static TheoryData<string> NumberOptions => new()
    {
        "--tau", "--refs", "--normal-limit", "--pretrain-dim", "--target-dim", "--batch-size", "--max-image-dimension",
        "--threads", "--resize", "--crop", "--min-clusters", "--max-clusters", "--distance-threshold", "--memory-budget", "--seed",
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void AValueOutOfRangeIsOneLineInTheUsersWords(string option, string value)
    {
        var run = CliRun.InProcess("cluster", images.Path, option, value, "-o", images.Combine("out"));
        AssertUsersWords(run, value);
    }

    [Theory]
    [MemberData(nameof(NumberOptions))]
    public void AWordWhereANumberBelongsIsOneLineInTheUsersWords(string option)
    {
        var run = CliRun.InProcess("cluster", images.Path, option, "lots", "-o", images.Combine("out"));
        AssertUsersWords(run, "lots");
        Assert.Contains(option, run.Error, StringComparison.Ordinal);
    }

    private static void AssertUsersWords(CliRun run, string value)
    {
        Assert.NotEqual(0, run.ExitCode);
        run.AssertOneLineError(run.ExitCode, value);
        Assert.DoesNotContain("System.", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("`", run.Error, StringComparison.Ordinal);
        var member = CSharpMemberName().Match(run.Error);
        Assert.False(member.Success, $"the error names the C# member '{member.Value}': {run.Error}");
    }

    // A PascalCase word of two or more parts (PretrainDimension, MaxImageDimension): how code names things, not people.
    [GeneratedRegex(@"\b[A-Z][a-z]+[A-Z][a-z]+[A-Za-z]*\b")]
    private static partial Regex CSharpMemberName();

    /// <summary>Two small classes of the demo's images; no run gets as far as reading them.</summary>
    public sealed class TwoClassFolder : IDisposable
    {
        private readonly TempFolder folder = new();

        public TwoClassFolder()
        {
            SyntheticImages.Write(Combine("images", "good"), DefectType.Good, 2, seed: 1);
            SyntheticImages.Write(Combine("images", "hole"), DefectType.Hole, 2, seed: 2);
        }

        public string Path => Combine("images");

        public string Combine(params string[] parts) => folder.Combine(parts);

        public void Dispose() => folder.Dispose();
    }
}

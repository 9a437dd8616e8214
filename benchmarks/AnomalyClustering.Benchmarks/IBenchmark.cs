namespace AnomalyClustering.Benchmarks;

/// <summary>One benchmark: times a real code path and prints its measurements.</summary>
internal interface IBenchmark
{
    /// <summary>The name used on the command line: <c>dotnet run -c Release --project benchmarks/AnomalyClustering.Benchmarks -- NAME</c>.</summary>
    string Name { get; }

    /// <summary>What it measures, one line.</summary>
    string Description { get; }

    /// <summary>Runs it with the arguments after its name.</summary>
    void Run(string[] args);
}

using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Tests;

/// <summary>What the grains store of an unexpected exception: an incident id and a fixed explanation, the text in the log.</summary>
public sealed class JobIncidentsTests
{
    private sealed class RecordingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }

    [Fact]
    public void AnInternalJobErrorIsAnIncidentIdInTheJobAndTheTextInTheLog()
    {
        var logger = new RecordingLogger();
        var detail = "Connection refused (redis-7.internal:6379) at StackExchange.Redis.ConnectionMultiplexer.Connect() key=AccountKey=c2VjcmV0";

        var error = JobIncidents.Record(logger, "job job-with-an-internal-error", new InvalidOperationException(detail), "the job stopped on an unexpected error");

        Assert.StartsWith("internal error (incident ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("redis", error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("AccountKey", error, StringComparison.Ordinal);
        var incident = error.Split(' ')[3].TrimEnd(')', ';');
        Assert.Equal(12, incident.Length);
        Assert.Contains(logger.Lines, line => line.Contains(incident, StringComparison.Ordinal) && line.Contains("redis-7.internal", StringComparison.Ordinal));
    }

    [Fact]
    public void OnlyInternalImageFailuresAreHidden()
    {
        var logger = new RecordingLogger();
        var own = new ImageFailure("a.png", "jobs/x/a.png", "decode", "not a PNG, JPEG, ...: the file is 21 bytes");
        Assert.Contains("21 bytes", own.Message, StringComparison.Ordinal);
        var message = JobIncidents.Record(logger, "image b.png", new InvalidOperationException("Service request failed. Status: 500 http://127.0.0.1:10000/devstoreaccount1"), "the image could not be embedded");
        var visible = new ImageFailure("b.png", "jobs/x/b.png", JobIncidents.InternalReason, message);
        Assert.DoesNotContain("127.0.0.1", visible.Message, StringComparison.Ordinal);
        Assert.Contains("incident", visible.Message, StringComparison.Ordinal);
        Assert.Contains(logger.Lines, line => line.Contains("127.0.0.1", StringComparison.Ordinal));
    }
}

using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Silo.Api;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Silo.Tests;

/// <summary>What a caller may see of a job: no internal exception text, no cache hits unless an administrator.</summary>
public sealed class CallerVisibleJobsTests
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
    public void AnInternalJobErrorIsAnIncidentIdInTheAnswerAndTheTextInTheLog()
    {
        var logger = new RecordingLogger();
        var detail = "internal error: Connection refused (redis-7.internal:6379) at StackExchange.Redis.ConnectionMultiplexer.Connect() key=AccountKey=c2VjcmV0";
        var job = new JobStatus { JobId = "job-with-an-internal-error", State = JobState.Failed, Error = detail, CacheHits = 5 };

        var visible = CallerVisibleJobs.For(job, seesCacheHits: false, logger);

        Assert.StartsWith("internal error (incident ", visible.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("redis", visible.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("AccountKey", visible.Error, StringComparison.Ordinal);
        Assert.Equal(0, visible.CacheHits);
        var incident = visible.Error!.Split(' ')[3].TrimEnd(')', ';');
        Assert.Contains(logger.Lines, line => line.Contains(incident, StringComparison.Ordinal) && line.Contains("redis-7.internal", StringComparison.Ordinal));
        // The same error is the same incident (clients poll), and an administrator sees the cache hits.
        Assert.Equal(visible.Error, CallerVisibleJobs.For(job, seesCacheHits: true, logger).Error);
        Assert.Equal(5, CallerVisibleJobs.For(job, seesCacheHits: true, logger).CacheHits);
    }

    [Fact]
    public void OnlyInternalImageFailuresAreHidden()
    {
        var logger = new RecordingLogger();
        var own = new ImageFailure("a.png", "jobs/x/a.png", "decode", "not a PNG, JPEG, ...: the file is 21 bytes");
        Assert.Equal(own, CallerVisibleJobs.For(own, logger));
        var internalFailure = new ImageFailure("b.png", "jobs/x/b.png", CallerVisibleJobs.InternalReason, "Service request failed. Status: 500 http://127.0.0.1:10000/devstoreaccount1");
        var visible = CallerVisibleJobs.For(internalFailure, logger);
        Assert.DoesNotContain("127.0.0.1", visible.Message, StringComparison.Ordinal);
        Assert.Contains("incident", visible.Message, StringComparison.Ordinal);
    }
}

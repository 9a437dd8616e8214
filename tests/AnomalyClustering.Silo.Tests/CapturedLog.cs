using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A logger provider that keeps every line a host logs (category, level, formatted message, exception), for tests that
/// check what an operator would read; register it with <c>services.AddSingleton&lt;ILoggerProvider&gt;(log)</c>.
/// </summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLine> lines = new();

    /// <summary>The lines logged so far, in order.</summary>
    public IReadOnlyList<CapturedLine> Lines => [.. lines];

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<CapturedLine> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(new CapturedLine(category, logLevel, formatter(state, exception), exception));
    }
}

/// <summary>One line of a <see cref="CapturedLog"/>.</summary>
public sealed record CapturedLine(string Category, LogLevel Level, string Message, Exception? Exception);

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// A request the API refuses, with the HTTP status and a message for the person who sent it; the job endpoints turn it into
/// a ProblemDetails response.
/// </summary>
public sealed class ApiProblemException : Exception
{
    /// <summary>Creates the refusal.</summary>
    /// <param name="statusCode">The HTTP status (4xx for the caller's mistakes).</param>
    /// <param name="title">A short summary that is the same for every occurrence of this kind of problem.</param>
    /// <param name="detail">What was wrong with this request and how to fix it.</param>
    public ApiProblemException(int statusCode, string title, string detail)
        : base(detail)
    {
        StatusCode = statusCode;
        Title = title;
    }

    /// <summary>The HTTP status.</summary>
    public int StatusCode { get; }

    /// <summary>The problem's title.</summary>
    public string Title { get; }

    /// <summary>Extra members of the ProblemDetails (e.g. the job's state).</summary>
    public IDictionary<string, object?> Extensions { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>400: the request's content is not acceptable.</summary>
    public static ApiProblemException BadRequest(string detail, string title = "Invalid request") => new(StatusCodes.Status400BadRequest, title, detail);
}

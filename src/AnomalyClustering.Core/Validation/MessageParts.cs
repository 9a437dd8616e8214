namespace AnomalyClustering.Core.Validation;

/// <summary>Pieces of messages a person reads.</summary>
public static class MessageParts
{
    /// <summary>
    /// " (detail)", or nothing when there is no detail: a message must not end in an empty "()".
    /// </summary>
    public static string InParentheses(string? detail) =>
        string.IsNullOrWhiteSpace(detail) ? string.Empty : $" ({detail})";
}

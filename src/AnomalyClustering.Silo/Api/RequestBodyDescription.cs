namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Endpoint metadata: what an endpoint's request body is, in words that start with its content type
/// (<c>multipart/form-data with 1 to 32 image files</c>), for the 415 answer to a request with another content type.
/// </summary>
/// <param name="Text">The body's content type and what it holds.</param>
public sealed record RequestBodyDescription(string Text);

using System.CommandLine;
using Azure.Core;
using Azure.Identity;

namespace AnomalyClustering.Cli.Remote;

/// <summary>
/// How the CLI proves who it is to a server: <c>--token</c> (or <c>ANOMALY_CLUSTERING_TOKEN</c>), a bearer token as is; or
/// <c>--token-audience</c> (or <c>ANOMALY_CLUSTERING_TOKEN_AUDIENCE</c>), the API's application id URI, for which
/// Azure.Identity's DefaultAzureCredential gets a token (az login, a managed identity, workload identity, environment).
/// </summary>
internal sealed class BearerTokenOptions
{
    /// <summary>The environment variable of a token.</summary>
    public const string TokenVariable = "ANOMALY_CLUSTERING_TOKEN";

    /// <summary>The environment variable of the audience to get a token for.</summary>
    public const string AudienceVariable = "ANOMALY_CLUSTERING_TOKEN_AUDIENCE";

    /// <summary>Creates the options with their descriptions.</summary>
    public BearerTokenOptions()
    {
        Token = new Option<string?>("--token")
        {
            Description = $"With --server: the bearer token to send (default: ${TokenVariable}). A server in cluster mode answers 401 without one.",
            HelpName = "jwt",
        };
        Audience = new Option<string?>("--token-audience")
        {
            Description = $"With --server and no token: get one for this API (its application id URI, e.g. api://anomaly-clustering) from Azure.Identity's DefaultAzureCredential (default: ${AudienceVariable}).",
            HelpName = "uri",
        };
    }

    /// <summary><c>--token</c>.</summary>
    public Option<string?> Token { get; }

    /// <summary><c>--token-audience</c>.</summary>
    public Option<string?> Audience { get; }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(Token);
        command.Add(Audience);
    }

    /// <summary>The token to send, or null for none (a server with anonymous access).</summary>
    /// <exception cref="CliInputException">DefaultAzureCredential found no identity to get a token with.</exception>
    public async Task<string?> ResolveAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var token = parseResult.GetValue(Token) ?? NonEmpty(Environment.GetEnvironmentVariable(TokenVariable));
        if (token is not null)
        {
            return token.Trim();
        }
        var audience = parseResult.GetValue(Audience) ?? NonEmpty(Environment.GetEnvironmentVariable(AudienceVariable));
        if (audience is null)
        {
            return null;
        }
        try
        {
            var scope = audience.TrimEnd('/') + "/.default";
            var access = await new DefaultAzureCredential().GetTokenAsync(new TokenRequestContext([scope]), cancellationToken).ConfigureAwait(false);
            return access.Token;
        }
        catch (AuthenticationFailedException e)
        {
            throw new CliInputException(
                $"no token for {audience}: DefaultAzureCredential found no identity ({FirstLine(e.Message)}); sign in with 'az login', or pass a token with --token or {TokenVariable}.");
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}

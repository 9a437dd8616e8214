using System.Globalization;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.Tokens;

namespace AnomalyClustering.Silo.Security;

/// <summary>
/// The JWT bearer handler's events that make its refusals say why. A token that cannot be checked because the issuer's
/// metadata (its OpenID Connect document and signing keys) cannot be fetched leaves the request unauthenticated with a
/// <see cref="TokenIssuerOutage"/> on it; a route that needs a caller then challenges, and the challenge throws its
/// <see cref="TokenIssuerUnavailableException"/>, answered 503 (and logged once) by <see cref="Api.DependencyOutageAnswer"/>:
/// the caller did nothing wrong and should send it again. A route open to anyone (the health probes) never challenges, so
/// it answers as without a token. A rejected token's reason stays on the request as a <see cref="BearerTokenRejection"/>
/// for the 401's detail (<see cref="Api.JobApiProblems"/>); the handler itself puts it in <c>WWW-Authenticate</c> as
/// <c>error="invalid_token"</c>.
/// </summary>
internal static class BearerTokenEvents
{
    /// <summary>The events, for <see cref="JwtBearerOptions.Events"/>.</summary>
    public static JwtBearerEvents Create() => new()
    {
        OnMessageReceived = CheckIssuerReachableAsync,
        OnAuthenticationFailed = context =>
        {
            context.HttpContext.Features.Set(new BearerTokenRejection(Reason(context.Exception, context.Options)));
            return Task.CompletedTask;
        },
        // Thrown here, not while authenticating: the handler logs an exception thrown there as an error of its own (a
        // second line beside the outage's), and it would fail the routes that need no caller too.
        OnChallenge = context => context.HttpContext.Features.Get<TokenIssuerOutage>() is { } outage
            ? throw new TokenIssuerUnavailableException(outage.MetadataAddress, outage.Failure)
            : Task.CompletedTask,
    };

    /// <summary>
    /// Before a request's token is validated, makes sure the issuer's metadata is at hand: the configuration manager answers
    /// from its copy once it has one (refreshing in the background), so this fetches only while it has none. Without it,
    /// validation fails as if the token were bad (no signing keys) and a valid token got a 401; so when the fetch fails
    /// the request stays unauthenticated with a <see cref="TokenIssuerOutage"/>, for the challenge. A request without a
    /// bearer token is left alone: its 401 does not depend on the issuer. On a route open to anyone the token is not
    /// looked at (nothing there reads the caller): it answers as without one, and waits on no issuer fetch.
    /// </summary>
    private static async Task CheckIssuerReachableAsync(MessageReceivedContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (context.Token is null && !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        if (context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            context.NoResult();
            return;
        }
        if (context.Options.ConfigurationManager is not { } metadata)
        {
            return;
        }
        try
        {
            await metadata.GetConfigurationAsync(context.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.HttpContext.Features.Set(new TokenIssuerOutage(context.Options.MetadataAddress ?? context.Options.Authority ?? "(none configured)", e));
            context.NoResult();
        }
    }

    /// <summary>Why a token was rejected, in words for the caller (no stack trace, no token contents but the claim at fault).</summary>
    internal static string Reason(Exception failure, JwtBearerOptions options) => failure switch
    {
        SecurityTokenExpiredException expired => $"it expired at {expired.Expires.ToString("u", CultureInfo.InvariantCulture)}",
        SecurityTokenNotYetValidException early => $"it is not valid before {early.NotBefore.ToString("u", CultureInfo.InvariantCulture)}",
        SecurityTokenNoExpirationException => "it has no expiry time",
        SecurityTokenInvalidLifetimeException => "its lifetime is invalid",
        // JsonWebTokenHandler leaves InvalidAudience empty; the caller can read its token's own.
        SecurityTokenInvalidAudienceException audience =>
            $"its audience is not this API's ('{options.Audience ?? options.TokenValidationParameters.ValidAudience}')"
            + (string.IsNullOrEmpty(audience.InvalidAudience) ? "" : $": it is for '{audience.InvalidAudience}'"),
        SecurityTokenInvalidIssuerException issuer => $"its issuer '{issuer.InvalidIssuer}' is not the one this API trusts",
        SecurityTokenSignatureKeyNotFoundException => "it is signed with a key the issuer does not publish",
        SecurityTokenInvalidSignatureException => "its signature does not match the issuer's keys",
        SecurityTokenMalformedException or ArgumentException => "it is not a well-formed JWT",
        _ => $"it did not validate ({failure.GetType().Name})",
    };
}

/// <summary>Why a request's bearer token was rejected (<see cref="BearerTokenEvents.Reason"/>), for its 401 answer.</summary>
internal sealed record BearerTokenRejection(string Reason);

/// <summary>The issuer's metadata at <paramref name="MetadataAddress"/> could not be fetched for this request (<paramref name="Failure"/>: why).</summary>
internal sealed record TokenIssuerOutage(string MetadataAddress, Exception Failure);

/// <summary>The token issuer's metadata could not be fetched, so no bearer token can be checked now (a 503, not a 401).</summary>
public sealed class TokenIssuerUnavailableException : Exception
{
    /// <summary>Creates the exception for <paramref name="metadataAddress"/>, wrapping what the fetch threw.</summary>
    public TokenIssuerUnavailableException(string metadataAddress, Exception innerException)
        : base($"the token issuer's metadata at {metadataAddress} could not be fetched, so bearer tokens cannot be checked: {RootCause(innerException)}", innerException)
        => MetadataAddress = metadataAddress;

    /// <summary>Creates the exception.</summary>
    public TokenIssuerUnavailableException() => MetadataAddress = "";

    /// <summary>Creates the exception with a message.</summary>
    public TokenIssuerUnavailableException(string message) : base(message) => MetadataAddress = "";

    /// <summary>The OpenID Connect metadata address that could not be read.</summary>
    public string MetadataAddress { get; }

    /// <summary>
    /// What went wrong at the bottom (e.g. "Connection refused (issuer:443)"): IdentityModel's own wrappers hide the
    /// address and the cause in their messages as PII.
    /// </summary>
    private static string RootCause(Exception? failure) => failure?.GetBaseException().Message ?? "(no reason given)";
}

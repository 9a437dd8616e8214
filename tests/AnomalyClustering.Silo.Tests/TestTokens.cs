using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A local token issuer for the tests: an RSA signing key made per test run, the issuer metadata the silo validates against
/// (given to it directly, so nothing is fetched), and tokens with the claims a test asks for.
/// </summary>
public sealed class TestTokens : IDisposable
{
    /// <summary>The issuer the silo trusts.</summary>
    public const string Issuer = "https://issuer.anomaly-clustering.test/";

    /// <summary>The audience the silo requires.</summary>
    public const string Audience = "api://anomaly-clustering-tests";

    private readonly RSA _rsa = RSA.Create(2048);

    /// <summary>Creates the key.</summary>
    public TestTokens() => SigningKey = new RsaSecurityKey(_rsa) { KeyId = "test-key" };

    /// <summary>The key tokens are signed with.</summary>
    public RsaSecurityKey SigningKey { get; }

    /// <summary>The issuer metadata (issuer and signing key) the silo's JWT bearer handler uses instead of fetching it.</summary>
    public OpenIdConnectConfiguration Configuration()
    {
        var configuration = new OpenIdConnectConfiguration { Issuer = Issuer };
        configuration.SigningKeys.Add(SigningKey);
        return configuration;
    }

    /// <summary>A signed token.</summary>
    /// <param name="roles">App roles (<c>roles</c> claim).</param>
    /// <param name="scopes">Delegated scopes (<c>scp</c> claim), space-separated in the token.</param>
    /// <param name="audience">The audience; the silo's by default.</param>
    /// <param name="expires">When it expires; an hour from now by default.</param>
    /// <param name="key">The signing key; the trusted one by default.</param>
    /// <param name="tenant">The <c>tid</c> claim, when given.</param>
    public string Mint(
        IEnumerable<string>? roles = null, IEnumerable<string>? scopes = null, string audience = Audience, DateTime? expires = null,
        SecurityKey? key = null, string? tenant = null)
    {
        var expiry = expires ?? DateTime.UtcNow.AddHours(1);
        var claims = new Dictionary<string, object> { ["sub"] = "test-caller" };
        if (roles is not null)
        {
            claims["roles"] = roles.ToArray();
        }
        if (scopes is not null)
        {
            claims["scp"] = string.Join(' ', scopes);
        }
        if (tenant is not null)
        {
            claims["tid"] = tenant;
        }
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = expiry.AddHours(-2),
            NotBefore = expiry.AddHours(-2),
            Expires = expiry,
            SigningCredentials = new SigningCredentials(key ?? SigningKey, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <inheritdoc />
    public void Dispose() => _rsa.Dispose();
}

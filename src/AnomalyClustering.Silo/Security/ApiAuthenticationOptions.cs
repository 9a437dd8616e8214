namespace AnomalyClustering.Silo.Security;

/// <summary>
/// Who may call the API of a coordinator silo (configuration section <c>AnomalyClustering:Auth</c>): the OpenID Connect
/// issuer whose JWT bearer tokens it accepts, the audience they must name, the claims that carry permissions and the tenant,
/// and the explicit opt-out for development clusters. docs/SECURITY.md describes every setting.
/// </summary>
public sealed class ApiAuthenticationOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AnomalyClustering:Auth";

    /// <summary>
    /// The token issuer's address (its <c>/.well-known/openid-configuration</c> gives the signing keys), e.g.
    /// <c>https://login.microsoftonline.com/{tenant-id}/v2.0</c> for Microsoft Entra ID.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>The audience a token must be issued for (the API's application id URI or client id).</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// True lets anyone call every route without a token: for a development cluster on a trusted network only (the dev
    /// overlay). Never the default; the silo logs a warning at start when it is on.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>The claim that names the caller's tenant (Entra ID: <c>tid</c>); see <see cref="ApiCaller.TenantOf"/>.</summary>
    public string TenantClaim { get; set; } = "tid";

    /// <summary>
    /// True (the default) requires https for the issuer's metadata; false only for a local test issuer over http.
    /// </summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Refuses settings that leave the API without a way to authenticate.</summary>
    /// <exception cref="InvalidOperationException">Neither an authority and audience nor <see cref="AllowAnonymous"/>; the message names the settings.</exception>
    public void Check()
    {
        if (AllowAnonymous)
        {
            return;
        }
        if (string.IsNullOrWhiteSpace(Authority) || string.IsNullOrWhiteSpace(Audience))
        {
            throw new InvalidOperationException(
                $"A coordinator silo serves its API only to authenticated callers: set {Section}:Authority (the OpenID Connect issuer, e.g. https://login.microsoftonline.com/<tenant-id>/v2.0) and {Section}:Audience (the API's application id URI), "
                + $"or, on a development cluster only, {Section}:AllowAnonymous=true. docs/SECURITY.md describes the settings.");
        }
    }
}

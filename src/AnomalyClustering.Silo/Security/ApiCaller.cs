using System.Security.Claims;

namespace AnomalyClustering.Silo.Security;

/// <summary>
/// What the API knows of a request's caller from its validated token: the permissions it holds and its tenant. Claims keep
/// their JWT names (inbound claim mapping is off): <c>roles</c> (app roles, one claim each), <c>scp</c> (delegated scopes,
/// space-separated) and the tenant claim of <see cref="ApiAuthenticationOptions.TenantClaim"/>.
/// </summary>
public static class ApiCaller
{
    /// <summary>The claim of app roles (Entra ID and most OpenID Connect issuers).</summary>
    public const string RolesClaim = "roles";

    /// <summary>The claim of delegated scopes, space-separated.</summary>
    public const string ScopesClaim = "scp";

    /// <summary>True when <paramref name="user"/> holds <paramref name="permission"/> (or <see cref="ApiPermissions.Admin"/>) as a role or a scope.</summary>
    public static bool Holds(ClaimsPrincipal user, string permission)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentException.ThrowIfNullOrEmpty(permission);
        if (user.Identity?.IsAuthenticated != true)
        {
            return false;
        }
        foreach (var claim in user.Claims)
        {
            var held = claim.Type switch
            {
                RolesClaim => IsGrant(claim.Value.AsSpan(), permission),
                ScopesClaim => claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(scope => IsGrant(scope, permission)),
                _ => false,
            };
            if (held)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The caller's tenant: the value of the tenant claim, or null when the token has none (or access is anonymous). A job
    /// recorded with a tenant is visible only to callers whose tenant is the same (the per-job record is the job registry's).
    /// </summary>
    public static string? TenantOf(ClaimsPrincipal user, ApiAuthenticationOptions options)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(options);
        return user.Identity?.IsAuthenticated == true ? user.FindFirst(options.TenantClaim)?.Value : null;
    }

    /// <summary>
    /// The permission a request needs when its route names none: reading for GET and HEAD, administering for anything that
    /// changes state, so that a route added later is never more open than reading.
    /// </summary>
    public static string PermissionImpliedBy(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? ApiPermissions.Read : ApiPermissions.Admin;

    private static bool IsGrant(ReadOnlySpan<char> held, string permission) =>
        held.Equals(permission, StringComparison.Ordinal) || held.Equals(ApiPermissions.Admin, StringComparison.Ordinal);
}

using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;

namespace AnomalyClustering.Silo.Security;

/// <summary>
/// Authentication and authorization of a coordinator silo's HTTP surface, in one place for every route: JWT bearer tokens of
/// the configured OpenID Connect issuer, one policy per <see cref="ApiPermissions"/> entry, and a fallback policy that every
/// route without a policy of its own gets (GET and HEAD need <see cref="ApiPermissions.Read"/>, anything else
/// <see cref="ApiPermissions.Admin"/>), so a route added later is never open by accident. Health probes opt out explicitly.
/// </summary>
public static class ApiSecurityExtensions
{
    /// <summary>Registers authentication and the policies from <c>AnomalyClustering:Auth</c>.</summary>
    /// <exception cref="InvalidOperationException">Neither an issuer nor explicit anonymous access is configured.</exception>
    public static IServiceCollection AddApiSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(ApiAuthenticationOptions.Section).Get<ApiAuthenticationOptions>() ?? new ApiAuthenticationOptions();
        options.Check();
        services.AddSingleton(options);
        if (options.AllowAnonymous)
        {
            services.AddAuthentication();
        }
        else
        {
            services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt =>
            {
                jwt.Authority = options.Authority;
                jwt.Audience = options.Audience;
                jwt.RequireHttpsMetadata = options.RequireHttpsMetadata;
                // Claims keep their token names (roles, scp, tid), which is what ApiCaller and docs/SECURITY.md speak of.
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters.RoleClaimType = ApiCaller.RolesClaim;
                jwt.TokenValidationParameters.NameClaimType = "name";
                // A 401 says whether the token was missing or rejected and why; an unreachable issuer is a 503.
                jwt.Events = BearerTokenEvents.Create();
            });
        }
        services.AddAuthorization(authorization =>
        {
            foreach (var permission in ApiPermissions.All)
            {
                authorization.AddPolicy(permission, policy => _ = options.AllowAnonymous
                    ? policy.RequireAssertion(_ => true)
                    : policy.RequireAuthenticatedUser().RequireAssertion(context => ApiCaller.Holds(context.User, permission)));
            }
            authorization.FallbackPolicy = options.AllowAnonymous ? null : new AuthorizationPolicyBuilder()
                .RequireAuthenticatedUser()
                .RequireAssertion(context => context.Resource is HttpContext http && ApiCaller.Holds(context.User, ApiCaller.PermissionImpliedBy(http.Request.Method)))
                .Build();
        });
        return services;
    }

    /// <summary>
    /// Adds the cross-site guard, authentication and authorization to the pipeline, and logs a warning when access is
    /// anonymous.
    /// </summary>
    public static WebApplication UseApiSecurity(this WebApplication app, string? publicOrigin)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<ApiAuthenticationOptions>();
        if (options.AllowAnonymous)
        {
            app.Logger.LogWarning(
                "{Setting}:AllowAnonymous is true: every API route, report and thumbnail is served to anyone without a token. Use this on a development cluster only.",
                ApiAuthenticationOptions.Section);
        }
        app.UseCrossSiteRequestGuard(publicOrigin);
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }
}

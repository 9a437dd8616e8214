namespace AnomalyClustering.Silo.Security;

/// <summary>
/// The permissions of the job API, each an authorization policy of the same name. A caller holds one when its token carries
/// it as an app role (<c>roles</c> claim: applications and users assigned the role in Entra ID) or as a delegated scope
/// (<c>scp</c> claim, space-separated); <see cref="Admin"/> holds all of them.
/// </summary>
public static class ApiPermissions
{
    /// <summary>Submit jobs (<c>POST /jobs</c>, <c>POST /jobs/upload</c>).</summary>
    public const string Submit = "Jobs.Submit";

    /// <summary>Read jobs, results, reports and thumbnails (every GET).</summary>
    public const string Read = "Jobs.Read";

    /// <summary>Name clusters (<c>PUT /jobs/{id}/clusters/{c}/name</c>).</summary>
    public const string Name = "Jobs.Name";

    /// <summary>Cancel and delete jobs (<c>POST /jobs/{id}/cancel</c>, <c>DELETE /jobs/{id}</c>).</summary>
    public const string Cancel = "Jobs.Cancel";

    /// <summary>Everything above, and any state-changing route that names no permission of its own.</summary>
    public const string Admin = "Jobs.Admin";

    /// <summary>Every permission.</summary>
    public static IReadOnlyList<string> All { get; } = [Submit, Read, Name, Cancel, Admin];
}

using System.Globalization;
using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// The server's limits on what a job may ask for (<see cref="JobApiOptions"/>), which a client cannot raise: sizes that set a
/// worker's memory (pretrain and target dimensions, reference images) are refused above the limit with the setting named;
/// the image size limit is a ceiling, so a larger request is capped to it (a job only ever refuses more images, never fewer
/// than the server would).
/// </summary>
public static class JobOptionLimits
{
    /// <summary>Returns <paramref name="options"/> within the limits.</summary>
    /// <exception cref="ApiProblemException">400 naming the option, the limit and the setting that sets it.</exception>
    public static JobOptions Apply(JobOptions options, JobApiOptions limits)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(limits);
        Refuse("pretrainDimension", options.PretrainDimension, limits.MaxPretrainDimension, nameof(JobApiOptions.MaxPretrainDimension));
        Refuse("targetDimension", options.TargetDimension, limits.MaxTargetDimension, nameof(JobApiOptions.MaxTargetDimension));
        Refuse("patchSize", options.PatchSize, limits.MaxPatchSize, nameof(JobApiOptions.MaxPatchSize));
        Refuse("refs", options.Refs, limits.MaxReferenceImages, nameof(JobApiOptions.MaxReferenceImages));
        Refuse("coreset", options.Coreset, limits.MaxCoresetFraction, nameof(JobApiOptions.MaxCoresetFraction));
        return options.MaxImageDimension > limits.MaxImageDimension ? options with { MaxImageDimension = limits.MaxImageDimension } : options;
    }

    private static void Refuse(string field, double value, double limit, string setting)
    {
        if (value <= limit)
        {
            return;
        }
        var problem = new ApiProblemException(StatusCodes.Status400BadRequest, "Over a server limit", string.Create(CultureInfo.InvariantCulture,
            $"{field} is {value}, more than this server allows ({limit}, {JobApiOptions.Section}:{setting}); ask for at most {limit}, or have the operator raise the setting (and the workers' memory with it)."));
        problem.Extensions["field"] = field;
        problem.Extensions["limit"] = limit;
        throw problem;
    }
}

using System.Text.RegularExpressions;
using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>Where a job's blobs live in the store, and which job ids are allowed (they become blob path segments).</summary>
public static partial class JobBlobNames
{
    /// <summary>The prefix of every job's own prefix (<see cref="JobPrefix"/>): a job id follows it, up to the next '/'.</summary>
    public const string JobsRoot = "jobs/";

    /// <summary>The prefix of every upload prefix (<see cref="UploadPrefix"/>): a job id follows it, up to the next '/'.</summary>
    public const string UploadsRoot = "uploads/";

    /// <summary>The prefix of everything a job writes itself (outcomes, result).</summary>
    public static string JobPrefix(string jobId) => $"{JobsRoot}{jobId}/";

    /// <summary>The result summary of a job (<see cref="JobResultFiles"/>: the other result files lie beside it).</summary>
    public static string Result(string jobId) => JobPrefix(jobId) + "result/result.json";

    /// <summary>
    /// Who a job belongs to and when it was submitted (written by the API at submission): with the result document, what
    /// answers for a completed job whose coordinator state is lost.
    /// </summary>
    public static string Owner(string jobId) => JobPrefix(jobId) + "owner.json";

    /// <summary>
    /// The prefix of the job records (<see cref="JobRecordStore"/>), one blob per job that has no result: outside the jobs'
    /// own prefixes, so that a listing of it names only jobs, never their per-image blobs.
    /// </summary>
    public const string RecordPrefix = "job-records/";

    /// <summary>The record that lets a job be resumed when its coordinator's state is lost (<see cref="JobRecordStore"/>).</summary>
    public static string Record(string jobId) => $"{RecordPrefix}{jobId}.json";

    /// <summary>The prefix of a job's image outcomes (<see cref="ImageOutcome"/>): one blob per image done.</summary>
    public static string OutcomesPrefix(string jobId) => $"{JobPrefix(jobId)}outcomes/";

    /// <summary>The outcome (x_i and alpha) of image <paramref name="index"/> of a job.</summary>
    public static string ImageOutcome(string jobId, int index) => $"{OutcomesPrefix(jobId)}{index}.bin";

    /// <summary>
    /// The prefix of one submission's manifest (<see cref="JobManifestStore"/>): per submission, so that two clients
    /// submitting the same job id at once never write into each other's list; the one the coordinator accepted stays.
    /// </summary>
    public static string Manifest(string jobId, string submissionId) => $"{JobPrefix(jobId)}manifest-{submissionId}/";

    /// <summary>The columnar blob of shard <paramref name="shard"/>'s image embeddings and scores.</summary>
    public static string ShardEmbeddings(string jobId, int shard) => $"{JobPrefix(jobId)}shards/{shard}.bin";

    /// <summary>The prefix under which the images uploaded for a job are stored.</summary>
    public static string UploadPrefix(string jobId) => $"{UploadsRoot}{jobId}/";

    /// <summary>Where the images of an upload are stored: the job's dataset prefix (names below it are the image ids).</summary>
    public static string UploadedImagesPrefix(string jobId) => UploadPrefix(jobId) + "images/";

    /// <summary>Where the normal images of an upload are stored.</summary>
    public static string UploadedNormalImagesPrefix(string jobId) => UploadPrefix(jobId) + "normal/";

    /// <summary>Throws unless <paramref name="jobId"/> is 1-64 letters, digits, '.', '_' or '-' (not starting with '.').</summary>
    /// <exception cref="InvalidJobException">The id is not allowed.</exception>
    public static void ValidateJobId(string jobId)
    {
        if (string.IsNullOrEmpty(jobId) || !JobIdPattern().IsMatch(jobId))
        {
            throw new InvalidJobException($"job id '{jobId}' is not allowed; use 1-64 letters, digits, '.', '_' or '-', not starting with '.'.", "jobId");
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex JobIdPattern();
}

namespace AnomalyClustering.Abstractions.Jobs;

/// <summary>
/// The coordinator of one job (key: the job id), placed on coordinator silos: fixes the reference sample or the normal
/// bank, has the job's shard grains process the images, clusters the image embeddings they collect and stores the result.
/// Its state is persisted and does not grow with the images, so that a coordinator restarted elsewhere resumes the job.
/// </summary>
[Alias("AnomalyClustering.IClusteringJobGrain")]
public interface IClusteringJobGrain : IGrainWithStringKey
{
    /// <summary>
    /// Accepts the job and starts it; submitting the same job id again returns its status unchanged (a failed or cancelled
    /// job is started again by <see cref="Retry"/>, which <c>JobSubmitter</c> calls for a resubmission).
    /// </summary>
    /// <exception cref="InvalidJobException">The specification or its options are invalid.</exception>
    [Alias("Submit")]
    Task<JobStatus> Submit(JobSpecification specification);

    /// <summary>The job's state and progress (<see cref="JobState.Unknown"/> for an id never submitted).</summary>
    [Alias("GetStatus")]
    Task<JobStatus> GetStatus();

    /// <summary>The images the job could not use, and why.</summary>
    [Alias("GetFailures")]
    Task<IReadOnlyList<ImageFailure>> GetFailures();

    /// <summary>Stops the job: no new image work starts; the state becomes <see cref="JobState.Cancelled"/> unless it had finished.</summary>
    [Alias("Cancel"), ResponseTimeout(IJobShardGrain.StopTimeout)]
    Task<JobStatus> Cancel();

    /// <summary>
    /// Starts a failed or cancelled job again from its own manifest, options and backbone, with none of its previous
    /// progress (the feature cache keeps the patch bags it computed, so the backbone does not run again for them). Any other
    /// job is left as it is: a completed job stays completed, a running one runs on. Returns the status.
    /// </summary>
    [Alias("Retry")]
    Task<JobStatus> Retry();

    /// <summary>
    /// Names cluster <paramref name="cluster"/> of a completed job (null or blank removes its name). The names are kept in
    /// the job's state and written into its result document, so later results and reports show them. Returns all names.
    /// </summary>
    /// <exception cref="InvalidJobException">The job has not completed, the cluster does not exist, or the name is invalid.</exception>
    [Alias("NameCluster")]
    Task<IReadOnlyDictionary<int, string>> NameCluster(int cluster, string? name);

    /// <summary>Where the job's images are listed (ids, blobs, labels: where a report finds their pixels); null for an unknown job.</summary>
    [Alias("GetManifest")]
    Task<JobManifestReference?> GetManifest();

    /// <summary>
    /// What a new image must be processed with to be comparable with this job's images (its options, backbone, references
    /// or normal bank); null for an unknown job or one whose references are not fixed yet. Production lines use it.
    /// </summary>
    [Alias("GetScoringBasis")]
    Task<JobScoringBasis?> GetScoringBasis();
    /// <summary>
    /// Deletes the job, in the coordinator: marks it as being deleted, stops its run and persists the mark, then returns the
    /// deletion's start while the deletion goes on here: the job's shards (stopped, each waiting for its image work, so that
    /// nothing of the job is written afterwards), its record, its blobs (uploads, outcomes, result), its feature-cache pins,
    /// its registry entry and, last, its state. From the start until that end the id is refused to new submissions, retries
    /// and names (<see cref="JobBeingDeletedException"/>), so that a job submitted with the id cannot lose its blobs to the
    /// deletion. One deletion runs at a time: a call while one runs joins it (and returns its start). A failed step is tried
    /// again after a pause (<see cref="JobStatus.DeletionError"/> says why), and a deletion cut short by its silo's end goes
    /// on when the coordinator is activated again (its resume reminder sees to that). Follow it with
    /// <see cref="WaitForDeletion"/> or the status. With <paramref name="onlyIfFinishedBefore"/> (retention), a job that is
    /// not finished, or was created since, or has no state and no result (a new job still being uploaded), is left alone and
    /// null is returned: the id may name a new job by now.
    /// </summary>
    [Alias("Delete"), ResponseTimeout(IJobShardGrain.StopTimeout)]
    Task<DateTimeOffset?> Delete(DateTimeOffset? onlyIfFinishedBefore = null);

    /// <summary>
    /// Waits up to <paramref name="wait"/> (at most <see cref="MaxDeletionWait"/>) for the deletion that started at
    /// <paramref name="deletionStartedAt"/> to end. True when it has ended (the id is free), false when it still runs.
    /// </summary>
    [Alias("WaitForDeletion")]
    Task<bool> WaitForDeletion(DateTimeOffset deletionStartedAt, TimeSpan wait);

    /// <summary>
    /// Retention's second sweep of a deleted job (<c>JobRetentionService.SweepDeletedAsync</c>): deletes the outcome blobs
    /// that its image calls wrote after its deletion and returns how many, unless the id holds a job now (a coordinator
    /// state, a submission under way, a job record or a result), whose outcomes they are: then nothing is deleted and null
    /// is returned. Asked here, where the id's job lives, rather than of the registry, whose mark of the deleted job a new
    /// job's report may not have reached; a submission that arrives meanwhile waits for the sweep to end.
    /// </summary>
    [Alias("SweepLateOutcomes"), ResponseTimeout(IJobShardGrain.StopTimeout)]
    Task<long?> SweepLateOutcomes();

    /// <summary>The longest one <see cref="WaitForDeletion"/> call waits: well inside the default response timeout (30 s), also on a loaded silo.</summary>
    public static readonly TimeSpan MaxDeletionWait = TimeSpan.FromSeconds(10);
}

/// <summary>
/// The jobs the cluster lists, newest first (key 0), with the status each coordinator reported at its last state change:
/// a listing reads this one grain and activates no coordinator. Finished jobs beyond a configured number are pruned.
/// </summary>
[Alias("AnomalyClustering.IJobRegistryGrain")]
public interface IJobRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Records a job's status (registering the job; idempotent for the same state).</summary>
    [Alias("Record")]
    Task Record(JobStatus status);

    /// <summary>
    /// Up to <paramref name="limit"/> jobs after the first <paramref name="offset"/>, newest first, as last recorded (a
    /// running job's counts are those of its last state change; state Unknown: recorded before statuses were kept).
    /// </summary>
    [Alias("ListPage")]
    Task<IReadOnlyList<JobStatus>> List(int offset, int limit);

    /// <summary>
    /// Like <see cref="List"/>, of the jobs a caller of <paramref name="tenant"/> may see (<see cref="JobStatus.IsVisibleTo"/>:
    /// the tenant's own jobs and those with no tenant); paging counts only those.
    /// </summary>
    [Alias("ListTenantPage")]
    Task<IReadOnlyList<JobStatus>> ListVisibleTo(string? tenant, int offset, int limit);

    /// <summary>Forgets a job (listed or not) so that it is recorded afresh: a job that runs again.</summary>
    [Alias("Remove")]
    Task Remove(string jobId);

    /// <summary>
    /// Forgets a deleted job (listed or not; neither listed nor swept by retention again) and marks it deleted as of
    /// <paramref name="deletionStartedAt"/>: late reports of it are ignored, and retention sweeps its outcome blobs once
    /// more later (<see cref="DeletedBefore"/>). A job with the id created after the deletion started is a new job: it is
    /// left listed and unmarked.
    /// </summary>
    [Alias("MarkDeleted")]
    Task MarkDeleted(string jobId, DateTimeOffset deletionStartedAt);

    /// <summary>Up to <paramref name="limit"/> ids of jobs deleted before <paramref name="deletedBefore"/> and still marked, oldest first.</summary>
    [Alias("DeletedBefore")]
    Task<IReadOnlyList<string>> DeletedBefore(DateTimeOffset deletedBefore, int limit);

    /// <summary>Whether the job is still marked deleted (no new job with its id since): its late blobs may be swept.</summary>
    [Alias("IsMarkedDeleted")]
    Task<bool> IsMarkedDeleted(string jobId);

    /// <summary>Clears a deleted job's mark once its late blobs are swept.</summary>
    [Alias("ForgetDeleted")]
    Task ForgetDeleted(string jobId);

    /// <summary>
    /// Up to <paramref name="limit"/> ids of finished jobs whose last state change was before <paramref name="finishedBefore"/>,
    /// oldest first, including finished jobs no longer listed: what a retention pass deletes.
    /// </summary>
    [Alias("FinishedBefore")]
    Task<IReadOnlyList<string>> FinishedBefore(DateTimeOffset finishedBefore, int limit);
}

/// <summary>
/// The job is being deleted (<see cref="IClusteringJobGrain.Delete"/>): its id takes no new submission, retry or
/// cluster name until the deletion ends (the API answers 409). A deletion whose steps fail (the store away) keeps the id
/// so while it tries them again.
/// </summary>
[GenerateSerializer, Alias("AnomalyClustering.JobBeingDeletedException")]
public sealed class JobBeingDeletedException : Exception
{
    /// <summary>Creates the exception for job <paramref name="jobId"/>, whose deletion started at <paramref name="deletionStartedAt"/>.</summary>
    public JobBeingDeletedException(string jobId, DateTimeOffset deletionStartedAt)
        : base($"job '{jobId}' is being deleted (since {deletionStartedAt:u}); its id is free again once the deletion ends. If it does not end, DELETE /jobs/{jobId} again to finish it.")
    {
        JobId = jobId;
        DeletionStartedAt = deletionStartedAt;
    }

    /// <summary>The job being deleted.</summary>
    [Id(0)] public string JobId { get; init; }

    /// <summary>When its deletion started.</summary>
    [Id(1)] public DateTimeOffset DeletionStartedAt { get; init; }
}

/// <summary>A job specification or its options were refused; the message says what to change.</summary>
[GenerateSerializer, Alias("AnomalyClustering.InvalidJobException")]
public sealed class InvalidJobException : Exception
{
    /// <summary>Creates the exception with a message for a person and the name of the offending field.</summary>
    public InvalidJobException(string message, string? field = null) : base(message) => Field = field;

    /// <summary>The offending field (e.g. <c>options.tau</c>), or null.</summary>
    [Id(0)] public string? Field { get; init; }
}

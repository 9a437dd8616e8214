using System.CommandLine;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Commands;

/// <summary>The options of jobs that start from images: backbone, mode, normal images, tau, reference sampling, embedding sizes, runtime.</summary>
internal sealed class ImageJobOptionSet
{
    private static readonly ClusteringJobOptions Defaults = new();


    private readonly bool _singleJob;

    /// <summary>Creates the options with their descriptions and defaults.</summary>
    /// <param name="singleJob">
    /// True for commands that run one job (<c>cluster</c>): <c>--mode</c>, <c>--tau</c> and <c>--normal</c> are included.
    /// <c>eval</c> runs many jobs and has its own lists of modes and temperatures, and takes normal images from each category.
    /// </param>
    public ImageJobOptionSet(bool singleJob = true)
    {
        _singleJob = singleJob;
        Model = new Option<string?>("--model") { Description = "ONNX backbone; its 4-D float outputs are the feature maps unless --feature-output names others. Default: the built-in backbone.", HelpName = "model.onnx" };
        FeatureOutputs = new Option<string[]>("--feature-output") { Description = "With --model: a tensor to take as feature map (repeat, finest first).", HelpName = "name", AllowMultipleArgumentsPerToken = false };
        Backbone = new Option<string?>("--backbone") { Description = "Backbone description (JSON: modelPath, inputName, featureOutputs, preprocessing).", HelpName = "backbone.json" };
        Mode = new Option<string>("--mode") { Description = "Patch weighting: unsupervised, semi-supervised (needs normal images) or average (uniform).", DefaultValueFactory = _ => "unsupervised", HelpName = "unsupervised|semi-supervised|average" };
        Mode.AcceptOnlyFromAmong(ClusteringOptionNames.Modes);
        Normal = new Option<string?>("--normal") { Description = "Folder of normal (defect-free) images for semi-supervised mode. Default: train/good in MVTec layout.", HelpName = "dir" };
        Tau = new Option<double>("--tau") { Description = "Softmax temperature of the patch weights (0 = only the most anomalous patch).", DefaultValueFactory = _ => Defaults.Tau };
        Refs = new Option<int>("--refs") { Description = "Reference images R per image for unsupervised scores (0 = all other images, exact; cost grows as N x R).", DefaultValueFactory = _ => Defaults.ReferenceCount, HelpName = "R" };
        NormalLimit = new Option<int>("--normal-limit") { Description = "Semi-supervised: use at most this many normal images, a random subset chosen by --seed (0 = all; cost grows with it).", DefaultValueFactory = _ => Defaults.NormalImageLimit, HelpName = "N" };
        Coreset = new Option<double>("--coreset") { Description = "Semi-supervised: keep this fraction of the normal patches, PatchCore's greedy coreset chosen by --seed (0 = all; PatchCore uses 0.1 or 0.01). Makes --normal-limit 0 affordable.", DefaultValueFactory = _ => Defaults.CoresetFraction, HelpName = "FRACTION" };
        DetectThenCluster = new Option<bool>("--detect-then-cluster") { Description = "Semi-supervised: images at or under the label-free detection threshold form one cluster, the rest are clustered into K - 1 (off by default: it clustered worse on the shared datasets, docs/RESULTS.md)." };
        PretrainDimension = new Option<int>("--pretrain-dim") { Description = "Per-layer pooled dimension P.", DefaultValueFactory = _ => Defaults.PretrainDimension, HelpName = "P" };
        PatchSize = new Option<int>("--patch-size") { Description = "Patch size k: every position aggregates its k x k neighbourhood (odd; work grows as k^2).", DefaultValueFactory = _ => Defaults.PatchSize, HelpName = "k" };
        TargetDimension = new Option<int>("--target-dim") { Description = "Patch embedding dimension T.", DefaultValueFactory = _ => Defaults.TargetDimension, HelpName = "T" };
        NoLayerNorm = new Option<bool>("--no-layer-norm") { Description = "Skip the per-image LayerNorm of the feature maps." };
        BatchSize = new Option<int>("--batch-size") { Description = "Images per backbone run.", DefaultValueFactory = _ => Defaults.BatchSize };
        MaxImageDimension = new Option<int>("--max-image-dimension") { Description = "Refuse (and list) images wider or taller than this.", DefaultValueFactory = _ => Defaults.MaxImageDimension, HelpName = "pixels" };
        Threads = new Option<int>("--threads") { Description = "Threads for the backbone, and images decoded and scored at once (0 = all cores for the backbone, 32 images).", DefaultValueFactory = _ => 0 };
        ExecutionProvider = new Option<string>("--execution-provider") { Description = "Where the backbone runs: cpu, cuda or tensorrt (GPU builds only).", DefaultValueFactory = _ => "cpu", HelpName = "cpu|cuda|tensorrt" };
        ExecutionProvider.AcceptOnlyFromAmong(BackboneSelection.ExecutionProviders);
        ResizeMode = new Option<string?>("--resize-mode") { Description = "How images fit the backbone input: stretch (the whole image, aspect ratio ignored) or crop (shorter side to --resize, then the centre crop: the paper's). Default: stretch, or what a --backbone description says.", HelpName = "stretch|crop" };
        ResizeMode.AcceptOnlyFromAmong("crop", "stretch");
        Resize = new Option<int?>("--resize") { Description = "Shorter side after resizing, in crop mode. Default: the backbone's (256).", HelpName = "pixels" };
        Crop = new Option<int?>("--crop") { Description = "Side of the square backbone input (the centre crop, or the stretched image). Default: the backbone's (224).", HelpName = "pixels" };
    }

    /// <summary><c>--patch-size</c>.</summary>
    public Option<int> PatchSize { get; }

    /// <summary><c>--detect-then-cluster</c>.</summary>
    public Option<bool> DetectThenCluster { get; }

    /// <summary><c>--resize-mode</c>.</summary>
    public Option<string?> ResizeMode { get; }

    /// <summary><c>--resize</c>.</summary>
    public Option<int?> Resize { get; }

    /// <summary><c>--crop</c>.</summary>
    public Option<int?> Crop { get; }

    /// <summary><c>--model</c>.</summary>
    public Option<string?> Model { get; }

    /// <summary><c>--feature-output</c>.</summary>
    public Option<string[]> FeatureOutputs { get; }

    /// <summary><c>--backbone</c>.</summary>
    public Option<string?> Backbone { get; }

    /// <summary><c>--mode</c>.</summary>
    public Option<string> Mode { get; }

    /// <summary><c>--normal</c>.</summary>
    public Option<string?> Normal { get; }

    /// <summary><c>--tau</c>.</summary>
    public Option<double> Tau { get; }

    /// <summary><c>--refs</c>.</summary>
    public Option<int> Refs { get; }

    /// <summary><c>--normal-limit</c>.</summary>
    public Option<int> NormalLimit { get; }

    /// <summary><c>--coreset</c>.</summary>
    public Option<double> Coreset { get; }

    /// <summary><c>--pretrain-dim</c>.</summary>
    public Option<int> PretrainDimension { get; }

    /// <summary><c>--target-dim</c>.</summary>
    public Option<int> TargetDimension { get; }

    /// <summary><c>--no-layer-norm</c>.</summary>
    public Option<bool> NoLayerNorm { get; }

    /// <summary><c>--batch-size</c>.</summary>
    public Option<int> BatchSize { get; }

    /// <summary><c>--max-image-dimension</c>.</summary>
    public Option<int> MaxImageDimension { get; }

    /// <summary><c>--threads</c>.</summary>
    public Option<int> Threads { get; }

    /// <summary><c>--execution-provider</c>.</summary>
    public Option<string> ExecutionProvider { get; }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, FeatureOutputs, Backbone, Mode, Normal, Tau, Refs, NormalLimit, Coreset, DetectThenCluster, PretrainDimension, TargetDimension, PatchSize, NoLayerNorm, BatchSize, MaxImageDimension, Threads, ExecutionProvider, ResizeMode, Resize, Crop })
        {
            if (_singleJob || (option != Mode && option != Tau && option != Normal && option != DetectThenCluster))
            {
                command.Add(option);
            }
        }
    }

    /// <summary>The image part of the job options from the command line (mode and tau only for a single job).</summary>
    public ClusteringJobOptions Apply(ParseResult parseResult, ClusteringJobOptions options)
    {
        var threads = parseResult.GetValue(Threads);
        if (threads < 0)
        {
            throw new CliInputException($"--threads is {threads}; use 0 for all cores or a positive number.");
        }
        return options with
        {
            Mode = _singleJob ? ClusteringOptionNames.ParseMode(parseResult.GetValue(Mode)!) : options.Mode,
            Tau = _singleJob ? parseResult.GetValue(Tau) : options.Tau,
            ReferenceCount = parseResult.GetValue(Refs),
            NormalImageLimit = parseResult.GetValue(NormalLimit),
            CoresetFraction = parseResult.GetValue(Coreset),
            DetectThenCluster = _singleJob && parseResult.GetValue(DetectThenCluster),
            PretrainDimension = parseResult.GetValue(PretrainDimension),
            TargetDimension = parseResult.GetValue(TargetDimension),
            PatchSize = parseResult.GetValue(PatchSize),
            LayerNorm = !parseResult.GetValue(NoLayerNorm),
            BatchSize = parseResult.GetValue(BatchSize),
            MaxImageDimension = parseResult.GetValue(MaxImageDimension),
            MaxDegreeOfParallelism = threads == 0 ? -1 : threads,
        };
    }

    /// <summary>The backbone description chosen on the command line, with its preprocessing overridden by <c>--resize-mode</c>, <c>--resize</c> and <c>--crop</c>.</summary>
    public BackboneDescription Describe(ParseResult parseResult)
    {
        var description = BackboneSelection.Describe(parseResult.GetValue(Model), parseResult.GetValue(Backbone), parseResult.GetValue(FeatureOutputs) ?? []);
        var preprocessing = description.Preprocessing;
        if (parseResult.GetValue(ResizeMode) is { } mode)
        {
            preprocessing = preprocessing with { ResizeMode = mode == "stretch" ? ImageResizeMode.Stretch : ImageResizeMode.CenterCrop };
        }
        if (parseResult.GetValue(Resize) is { } resize)
        {
            preprocessing = preprocessing with { ResizeShorterSide = resize > 0 ? resize : throw new CliInputException($"--resize is {resize}; it must be a positive number of pixels.") };
        }
        if (parseResult.GetValue(Crop) is { } crop)
        {
            preprocessing = preprocessing with { CropWidth = crop, CropHeight = crop > 0 ? crop : throw new CliInputException($"--crop is {crop}; it must be a positive number of pixels.") };
        }
        return description with { Preprocessing = preprocessing };
    }

    /// <summary>The ONNX Runtime session settings chosen on the command line.</summary>
    public BackboneRuntimeOptions Runtime(ParseResult parseResult) => new()
    {
        IntraOpThreads = Math.Max(0, parseResult.GetValue(Threads)),
        ExecutionProvider = BackboneSelection.ParseExecutionProvider(parseResult.GetValue(ExecutionProvider)!),
    };
}

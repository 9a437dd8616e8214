using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Embedding.Onnx;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Embedding.Backbones;

/// <summary>
/// The backbone that needs no model file: a fixed CNN generated in code as an ONNX graph and run by ONNX
/// Runtime like any other. Layer 1 is a hand-made filter bank (oriented Gabor edges and bars, colour
/// opponency, centre-surround blobs) for texture sensitivity; layers 2-4 are seeded random 3 x 3
/// convolutions with He scaling. Outputs "stride8" [N,128,H/8,W/8] and "stride16" [N,256,H/16,W/16]
/// after ReLU. It is far less accurate than an ImageNet-pretrained backbone; it exists so that the
/// product works out of the box and tests run anywhere. Same bytes on every call and every machine
/// (weights come from an integer PRNG; only the Gabor envelopes use Math.Exp/Cos, rounded to float).
/// </summary>
public static class BuiltInBackbone
{
    /// <summary>Model paths starting with this name a built-in model.</summary>
    public const string ModelPathPrefix = "builtin:";

    /// <summary>The model path that selects this backbone in a <see cref="BackboneDescription"/>.</summary>
    public const string ModelPath = ModelPathPrefix + "random-texture-cnn-v1";

    /// <summary>Channels of the "stride8" output.</summary>
    public const int Stride8Channels = 128;

    /// <summary>Channels of the "stride16" output.</summary>
    public const int Stride16Channels = 256;

    private const int FilterBankChannels = 48;
    private const int Stride4Channels = 64;
    private const int FilterBankSize = 7;
    private const ulong Seed = 0x5EED_A11C_0DE5_2023;

    /// <summary>Its description: input "input", outputs "stride8" and "stride16", ImageNet preprocessing at 256 / 224.</summary>
    public static BackboneDescription Description { get; } = new()
    {
        Name = "builtin-random-texture-cnn",
        ModelPath = ModelPath,
        InputName = "input",
        FeatureOutputs = ["stride8", "stride16"],
        Preprocessing = PreprocessingOptions.Default,
        Summary = "Built-in seeded random-feature CNN (Gabor / colour filter bank, then random 3x3 convolutions). "
                  + "Works without any model file but is clearly less accurate than an ImageNet-pretrained backbone "
                  + "such as ResNet-50 layer2/layer3; use one of those for quality work.",
    };

    /// <summary>
    /// The description the CLI and the HTTP API use when a job names no backbone: <see cref="Description"/> fed the whole
    /// image, stretched to the input size (the paper's centre crop cuts defects off elongated parts; docs/RESULTS.md).
    /// </summary>
    public static BackboneDescription WholeImageDescription { get; } =
        Description with { Preprocessing = Description.Preprocessing with { ResizeMode = ImageResizeMode.Stretch } };

    /// <summary>Opens the built-in backbone.</summary>
    public static OnnxBackbone Open(BackboneRuntimeOptions? options = null) => new(Description, options);

    /// <summary>
    /// The ONNX model (opset 13): Conv 7x7/2 (filter bank) - ReLU - Conv 3x3/2 - ReLU - Conv 3x3/2 - ReLU
    /// ("stride8") - Conv 3x3/2 - ReLU ("stride16"); input [batch,3,height,width] float32, any height and width.
    /// About 400k weights (1.6 MB); generating it takes milliseconds.
    /// </summary>
    public static byte[] CreateModel()
    {
        var graph = new OnnxGraphBuilder("builtin_random_texture_cnn");
        OnnxDimension[] input = [OnnxDimension.Symbolic("batch"), OnnxDimension.Fixed(3), OnnxDimension.Symbolic("height"), OnnxDimension.Symbolic("width")];
        graph.AddInput("input", OnnxElementType.Float, input);

        var random = new SplitMix64(Seed);
        AddConvRelu(graph, "filter_bank", "input", "stride2", FilterBank(), FilterBankChannels, 3, FilterBankSize);
        AddConvRelu(graph, "conv2", "stride2", "stride4", HeNormal(ref random, Stride4Channels, FilterBankChannels * 9), Stride4Channels, FilterBankChannels, 3);
        AddConvRelu(graph, "conv3", "stride4", "stride8", HeNormal(ref random, Stride8Channels, Stride4Channels * 9), Stride8Channels, Stride4Channels, 3);
        AddConvRelu(graph, "conv4", "stride8", "stride16", HeNormal(ref random, Stride16Channels, Stride8Channels * 9), Stride16Channels, Stride8Channels, 3);

        graph.AddValueInfo("stride2", OnnxElementType.Float, MapShape(FilterBankChannels));
        graph.AddValueInfo("stride4", OnnxElementType.Float, MapShape(Stride4Channels));
        graph.AddOutput("stride8", OnnxElementType.Float, MapShape(Stride8Channels));
        graph.AddOutput("stride16", OnnxElementType.Float, MapShape(Stride16Channels));
        return graph.Build("1", Description.Summary!);
    }

    /// <summary>The model for a <c>builtin:</c> model path.</summary>
    /// <exception cref="BackboneConfigurationException">No built-in model has that name.</exception>
    internal static byte[] CreateModel(string modelPath) => modelPath == ModelPath
        ? CreateModel()
        : throw new BackboneConfigurationException($"There is no built-in model '{modelPath}'; the built-in model is '{ModelPath}'.");

    private static OnnxDimension[] MapShape(int channels) =>
        [OnnxDimension.Symbolic("batch"), OnnxDimension.Fixed(channels), OnnxDimension.Unknown, OnnxDimension.Unknown];

    private static void AddConvRelu(OnnxGraphBuilder graph, string name, string input, string output, float[] weights, int outChannels, int inChannels, int kernel)
    {
        graph.AddInitializer(name + ".weight", weights, outChannels, inChannels, kernel, kernel);
        graph.AddNode("Conv", name, [input, name + ".weight"], [name + ".out"],
            OnnxGraphBuilder.Ints("kernel_shape", kernel, kernel),
            OnnxGraphBuilder.Ints("strides", 2, 2),
            OnnxGraphBuilder.Ints("pads", kernel / 2, kernel / 2, kernel / 2, kernel / 2));
        graph.AddNode("Relu", name + ".relu", [name + ".out"], [output]);
    }

    /// <summary>
    /// He-normal weights for a convolution followed by ReLU, each filter made zero-mean over its fan-in
    /// (it answers contrast, not the mean level of its rectified input) and scaled to squared norm 2.
    /// Normal deviates are sums of 12 uniforms minus 6 (exact integer-derived arithmetic, so the bytes
    /// do not depend on the platform's math library).
    /// </summary>
    private static float[] HeNormal(ref SplitMix64 random, int outChannels, int fanIn)
    {
        var weights = new float[outChannels * fanIn];
        var filter = new double[fanIn];
        for (int o = 0; o < outChannels; o++)
        {
            double sum = 0;
            for (int i = 0; i < fanIn; i++)
            {
                double normal = -6.0;
                for (int k = 0; k < 12; k++)
                {
                    normal += random.NextUnit();
                }
                filter[i] = normal;
                sum += normal;
            }
            double mean = sum / fanIn;
            double squares = 0;
            for (int i = 0; i < fanIn; i++)
            {
                filter[i] -= mean;
                squares += filter[i] * filter[i];
            }
            double scale = Math.Sqrt(2.0 / squares);
            for (int i = 0; i < fanIn; i++)
            {
                weights[o * fanIn + i] = (float)(filter[i] * scale);
            }
        }
        return weights;
    }

    /// <summary>
    /// 48 filters of 7 x 7 over (R, G, B), each of unit norm, in signed pairs so that ReLU keeps both polarities:
    /// 32 luminance Gabors (4 orientations x 2 wavelengths x even/odd phase x sign), 8 colour-opponent blobs
    /// (red-green and blue-yellow x 2 sizes x sign), 6 luminance centre-surround blobs (3 sizes x sign) and
    /// 2 luminance blobs (bright / dark).
    /// </summary>
    private static float[] FilterBank()
    {
        const int n = FilterBankSize;
        const int area = n * n;
        var weights = new float[FilterBankChannels * 3 * area];
        int next = 0;
        // Luminance weights in RGB order (ITU-R BT.601).
        double[] luminance = [0.299, 0.587, 0.114];

        void AddPair(double[] spatial, double[] colour)
        {
            double norm = 0;
            for (int c = 0; c < 3; c++)
            {
                for (int p = 0; p < area; p++)
                {
                    norm += spatial[p] * colour[c] * spatial[p] * colour[c];
                }
            }
            double scale = 1.0 / Math.Sqrt(norm);
            foreach (var sign in (ReadOnlySpan<double>)[1.0, -1.0])
            {
                for (int c = 0; c < 3; c++)
                {
                    for (int p = 0; p < area; p++)
                    {
                        weights[(next * 3 + c) * area + p] = (float)(sign * spatial[p] * colour[c] * scale);
                    }
                }
                next++;
            }
        }

        for (int orientation = 0; orientation < 4; orientation++)
        {
            double theta = orientation * Math.PI / 4;
            foreach (var (wavelength, sigma) in (ReadOnlySpan<(double, double)>)[(3.5, 1.4), (6.0, 2.2)])
            {
                AddPair(ZeroMean(Gabor(theta, wavelength, sigma, even: true)), luminance);
                AddPair(ZeroMean(Gabor(theta, wavelength, sigma, even: false)), luminance);
            }
        }
        foreach (var sigma in (ReadOnlySpan<double>)[1.0, 2.0])
        {
            AddPair(Gaussian(sigma), [1.0, -1.0, 0.0]);
            AddPair(Gaussian(sigma), [-0.5, -0.5, 1.0]);
        }
        foreach (var sigma in (ReadOnlySpan<double>)[0.7, 1.1, 1.6])
        {
            var centre = Gaussian(sigma);
            var surround = Gaussian(2 * sigma);
            AddPair(ZeroMean(centre.Select((v, i) => v - surround[i]).ToArray()), luminance);
        }
        AddPair(Gaussian(1.5), luminance);
        return next == FilterBankChannels ? weights : throw new InvalidOperationException("filter bank size mismatch");
    }

    private static double[] Gabor(double theta, double wavelength, double sigma, bool even)
    {
        var kernel = new double[FilterBankSize * FilterBankSize];
        int radius = FilterBankSize / 2;
        for (int y = -radius; y <= radius; y++)
        {
            for (int x = -radius; x <= radius; x++)
            {
                double along = x * Math.Cos(theta) + y * Math.Sin(theta);
                double envelope = Math.Exp(-(x * x + y * y) / (2 * sigma * sigma));
                double phase = 2 * Math.PI * along / wavelength;
                kernel[(y + radius) * FilterBankSize + x + radius] = envelope * (even ? Math.Cos(phase) : Math.Sin(phase));
            }
        }
        return kernel;
    }

    private static double[] Gaussian(double sigma)
    {
        var kernel = new double[FilterBankSize * FilterBankSize];
        int radius = FilterBankSize / 2;
        for (int y = -radius; y <= radius; y++)
        {
            for (int x = -radius; x <= radius; x++)
            {
                kernel[(y + radius) * FilterBankSize + x + radius] = Math.Exp(-(x * x + y * y) / (2 * sigma * sigma));
            }
        }
        return kernel;
    }

    /// <summary>Removes the mean so that the filter ignores flat regions (an edge or bar detector, not a brightness one).</summary>
    private static double[] ZeroMean(double[] kernel)
    {
        double mean = kernel.Average();
        return kernel.Select(v => v - mean).ToArray();
    }

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator whose output is fixed by its integer arithmetic.</summary>
    private struct SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
        public double NextUnit()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53));
        }
    }
}

using AnomalyClustering.GpuCheck;

// prepare: real images -> the product's input tensors (here, where the datasets are); run: the worker's checks (on the GPU
// machine); cluster: the two-stage clustering's k-means assignment on a simulated million-image job.
return args.FirstOrDefault() switch
{
    "prepare" when args.Length >= 3 => InputTensors.Prepare(args[1], args[2], args.Length > 3 ? int.Parse(args[3]) : 8),
    "run" => DeviceChecks.Run(args[1..]),
    "cluster" => DeviceChecks.RunClustering(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: AnomalyClustering.GpuCheck prepare IMAGE_FOLDER INPUTS.f32 [COUNT=8]");
    Console.Error.WriteLine("       AnomalyClustering.GpuCheck run --inputs INPUTS.f32 --model MODEL.onnx [--provider cuda|cpu] [--seconds 3] [--references 16,64,256] [--profile DIR] [--no-tf32]");
    Console.Error.WriteLine("       AnomalyClustering.GpuCheck cluster [--points 1000000] [--dimension 256] [--components 10] [--provider cuda|cpu] [--seconds 3] [--no-tf32]");
    return 2;
}

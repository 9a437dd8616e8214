using AnomalyClustering.GpuCheck;

// prepare: real images -> the product's input tensors (here, where the datasets are); run: the checks (on the GPU machine).
return args.FirstOrDefault() switch
{
    "prepare" when args.Length >= 3 => InputTensors.Prepare(args[1], args[2], args.Length > 3 ? int.Parse(args[3]) : 8),
    "run" => DeviceChecks.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: AnomalyClustering.GpuCheck prepare IMAGE_FOLDER INPUTS.f32 [COUNT=8]");
    Console.Error.WriteLine("       AnomalyClustering.GpuCheck run --inputs INPUTS.f32 --model MODEL.onnx [--provider cuda|cpu] [--seconds 3] [--references 16,64,256] [--profile DIR]");
    return 2;
}

using AnomalyClustering.Benchmarks;

// Every IBenchmark in this assembly, found by reflection so that adding one is adding a file.
var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name)
    .ToList();

var chosen = args.Length > 0 ? benchmarks.FirstOrDefault(b => b.Name == args[0]) : null;
if (chosen is null)
{
    Console.Error.WriteLine("usage: AnomalyClustering.Benchmarks NAME [args]");
    foreach (var b in benchmarks)
    {
        Console.Error.WriteLine($"  {b.Name,-24} {b.Description}");
    }
    return args.Length == 0 ? 0 : 2;
}
chosen.Run(args[1..]);
return 0;

using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
ClusterHostingOptions silo;
try
{
    silo = await builder.AddAnomalyClusteringSiloAsync();
}
catch (Exception e) when (e is StoreFolderException or ServerSettingException)
{
    // Another server (or CLI runs) on the folder, a folder that cannot be locked or used at all, or a setting out of
    // range: said in one line, not as a crash.
    Console.Error.WriteLine($"anomaly-clustering server: {e.Message}");
    return 1;
}
var app = builder.Build();
app.MapAnomalyClusteringEndpoints(silo);
await app.RunAsync();
return 0;

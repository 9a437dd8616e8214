using AnomalyClustering.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
var silo = await builder.AddAnomalyClusteringSiloAsync();
var app = builder.Build();
app.MapAnomalyClusteringEndpoints(silo);
await app.RunAsync();

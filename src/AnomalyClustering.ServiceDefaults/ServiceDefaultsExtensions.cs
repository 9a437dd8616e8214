using AnomalyClustering.Abstractions.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AnomalyClustering.ServiceDefaults;

/// <summary>
/// OpenTelemetry for the silo and the CLI, in one place: the product's activity source and meter, Orleans' meter and
/// activity sources, .NET runtime, ASP.NET Core and HttpClient instrumentation, logs through OpenTelemetry. Exporters are
/// switched on by configuration only: OTLP by the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with <c>OTEL_SERVICE_NAME</c>,
/// <c>OTEL_RESOURCE_ATTRIBUTES</c>), a Prometheus scrape endpoint by <c>AnomalyClustering:Telemetry:PrometheusEndpoint</c>.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Orleans' meter (activations, messaging, ...).</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Orleans' activity sources: grain calls as seen by the runtime and by the application.</summary>
    public static readonly string[] OrleansActivitySources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    /// <summary>The setting that maps <c>/metrics</c> for Prometheus.</summary>
    public const string PrometheusEndpointSetting = "AnomalyClustering:Telemetry:PrometheusEndpoint";

    /// <summary>Adds OpenTelemetry with the product's sources and the exporters configuration asks for.</summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var prometheus = builder.Configuration.GetValue<bool>(PrometheusEndpointSetting);
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? "anomaly-clustering";
        // The silo name (the pod name in Kubernetes) tells the instances apart on per-silo panels.
        var instance = builder.Configuration["Orleans:SiloName"] ?? Environment.MachineName;

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: instance))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(TelemetryNames.Source, OrleansMeter)
                    .AddRuntimeInstrumentation()
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            })
            .WithTracing(tracing => tracing
                .AddSource(TelemetryNames.Source)
                .AddSource(OrleansActivitySources)
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !context.Request.Path.StartsWithSegments("/health"))
                .AddHttpClientInstrumentation());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>Maps <c>/metrics</c> for Prometheus when <see cref="PrometheusEndpointSetting"/> is true.</summary>
    public static WebApplication MapServiceDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Configuration.GetValue<bool>(PrometheusEndpointSetting))
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
        }
        return app;
    }
}

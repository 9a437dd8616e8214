using AnomalyClustering.Abstractions.Telemetry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
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

    /// <summary>
    /// The setting that serves <c>/metrics</c> on a port of its own (also listed in the host's URLs, e.g.
    /// <c>ASPNETCORE_HTTP_PORTS=8080;9464</c>), without authentication, and only there; unset, <c>/metrics</c> is an
    /// ordinary route of the API port and needs what every other route needs.
    /// </summary>
    public const string MetricsPortSetting = "AnomalyClustering:Telemetry:MetricsPort";

    /// <summary>The tags .NET's HttpClient metrics (meter <c>System.Net.Http</c>) keep: none names the peer.</summary>
    private static readonly string[] HttpClientTags =
        ["http.request.method", "http.response.status_code", "http.connection.state", "network.protocol.version", "url.scheme", "error.type"];

    /// <summary>The tags .NET's DNS metric (meter <c>System.Net.NameResolution</c>) keeps: not the name looked up.</summary>
    private static readonly string[] NameResolutionTags = ["error.type"];

    /// <summary>
    /// A metrics view that keeps addresses off every label of <c>/metrics</c> and OTLP: the HttpClient metrics' <c>server.address</c>,
    /// <c>server.port</c> and <c>network.peer.address</c> and the DNS metric's <c>dns.question.name</c> would name the
    /// storage account's blob endpoint (and any other service called), which operators and whoever can scrape the port
    /// need not see; the remaining tags (method, status, scheme, error) still tell failures apart. Null (unchanged) for
    /// every other instrument.
    /// </summary>
    public static MetricStreamConfiguration? WithoutPeerAddresses(System.Diagnostics.Metrics.Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        return instrument.Meter.Name switch
        {
            "System.Net.Http" => new MetricStreamConfiguration { TagKeys = HttpClientTags },
            "System.Net.NameResolution" => new MetricStreamConfiguration { TagKeys = NameResolutionTags },
            _ => null,
        };
    }

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
                    .AddHttpClientInstrumentation()
                    .AddView(WithoutPeerAddresses);
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

    /// <summary>
    /// Maps <c>/metrics</c> for Prometheus when <see cref="PrometheusEndpointSetting"/> is true: on the port of
    /// <see cref="MetricsPortSetting"/> only (and nothing else there) when it is set.
    /// </summary>
    public static WebApplication MapServiceDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Configuration.GetValue<bool>(PrometheusEndpointSetting))
        {
            return app;
        }
        var metricsPort = app.Configuration.GetValue<int?>(MetricsPortSetting);
        if (metricsPort is not { } port)
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
            return app;
        }
        // The scraper reaches this port from inside the cluster (a NetworkPolicy says from where) without a token; so the
        // port serves the metrics and nothing else, and the API port does not serve them.
        app.Use((context, next) =>
        {
            if (context.Connection.LocalPort == port && !context.Request.Path.StartsWithSegments("/metrics"))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(context);
        });
        app.MapPrometheusScrapingEndpoint("/metrics").RequireHost($"*:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}").AllowAnonymous();
        return app;
    }
}

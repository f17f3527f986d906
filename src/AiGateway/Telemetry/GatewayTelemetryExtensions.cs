using AiGateway.Audit;
using AiGateway.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AiGateway.Telemetry;

/// <summary>Registration of metrics and traces (the trace-context policy towards upstreams: UpstreamHttpClientFactory).</summary>
internal static class GatewayTelemetryExtensions
{
    public static IServiceCollection AddGatewayMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GatewayMetrics>();
        return services;
    }

    /// <summary>
    /// Traces (ASP.NET Core and HttpClient spans, no prompt or answer text, no query strings) and metrics go to the
    /// collector of <c>audit.otlp</c> when it is configured. The W3C trace context reaches only providers that opt in.
    /// </summary>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration, GatewaySnapshot snapshot)
    {
        services.AddGatewayMetrics();

        var otlp = snapshot.Audit.Otlp;
        if (otlp is null || (!otlp.ExportTraces && !otlp.ExportMetrics))
        {
            return services;
        }

        configuration["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] ??= "in_memory";
        var protocol = otlp.Protocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        var telemetry = services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("aigateway", serviceInstanceId: Environment.MachineName));
        if (otlp.ExportTraces)
        {
            // With any other default propagator the HttpClient instrumentation injects traceparent itself, past the
            // per-cluster choice below; with the plain W3C one it leaves injection to the handler's
            // ActivityHeadersPropagator (which UpstreamHttpClientFactory sets per cluster).
            Sdk.SetDefaultTextMapPropagator(new TraceContextPropagator());
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options =>
                {
                    options.Filter = context => !context.Request.Path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase);
                    options.EnrichWithHttpRequest = static (activity, _) => activity.SetTag("url.query", null);
                })
                .AddHttpClientInstrumentation(options =>
                {
                    // The path is enough; a query could carry an api-key (Azure).
                    options.EnrichWithHttpRequestMessage = static (activity, request) =>
                    {
                        if (request.RequestUri is { } uri)
                        {
                            activity.SetTag("url.full", uri.GetLeftPart(UriPartial.Path));
                        }
                    };
                })
                .AddOtlpExporter(options =>
                {
                    options.Endpoint = otlp.SignalEndpoint("traces");
                    options.Protocol = protocol;
                }));
        }

        if (otlp.ExportMetrics)
        {
            telemetry.WithMetrics(metrics => metrics
                .AddMeter(GatewayMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddOtlpExporter((options, reader) =>
                {
                    options.Endpoint = otlp.SignalEndpoint("metrics");
                    options.Protocol = protocol;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 15_000;
                }));
        }

        return services;
    }
}

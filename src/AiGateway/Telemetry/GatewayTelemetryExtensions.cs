using System.Diagnostics;
using AiGateway.Audit;
using AiGateway.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Forwarder;

namespace AiGateway.Telemetry;

/// <summary>Registration of metrics, traces and the trace-context policy towards upstreams.</summary>
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
        services.AddSingleton<IForwarderHttpClientFactory, TraceContextForwarderHttpClientFactory>();

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
            // ActivityHeadersPropagator (which TraceContextForwarderHttpClientFactory sets per cluster).
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

/// <summary>
/// YARP's forwarder client sends <c>traceparent</c> upstream through its <c>ActivityHeadersPropagator</c>. External
/// vendors should not learn the agency's trace ids, so the propagator is replaced by one that writes nothing unless
/// every provider of the cluster opts in with <c>propagateTraceContext</c>.
/// </summary>
internal sealed class TraceContextForwarderHttpClientFactory : ForwarderHttpClientFactory
{
    private readonly GatewayConfigStore _config;

    public TraceContextForwarderHttpClientFactory(GatewayConfigStore config, ILogger<ForwarderHttpClientFactory> logger)
        : base(logger) => _config = config;

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (!Propagates(_config.Current, context.ClusterId))
        {
            handler.ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator();
        }
    }

    internal static bool Propagates(GatewaySnapshot snapshot, string clusterId)
    {
        if (!snapshot.ModelsByCluster.TryGetValue(clusterId, out var model) || model.Deployments.Count == 0)
        {
            return false;
        }

        foreach (var deployment in model.Deployments)
        {
            if (!deployment.Provider.PropagateTraceContext)
            {
                return false;
            }
        }

        return true;
    }
}

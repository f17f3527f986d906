using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace LlmSimulator.Protocol;

/// <summary>The x-sim-* request headers, so curl and wrk can drive behaviour without a body object.</summary>
internal static class Directives
{
    public static bool TryApplyHeaders(IHeaderDictionary headers, SimulatedRequest request, out string? error)
    {
        error = null;
        if (!TryInt(headers, "x-sim-status", out var status, ref error)
            || !TryInt(headers, "x-sim-delay-ms", out var delay, ref error)
            || !TryInt(headers, "x-sim-chunks", out var chunks, ref error)
            || !TryInt(headers, "x-sim-chunk-delay-ms", out var chunkDelay, ref error)
            || !TryInt(headers, "x-sim-retry-after", out var retryAfter, ref error))
        {
            return false;
        }

        request.Status = status;
        request.DelayMs = delay;
        request.Chunks = chunks;
        request.ChunkDelayMs = chunkDelay;
        request.RetryAfterSeconds = retryAfter;

        var fault = headers["x-sim-fault"];
        if (fault.Count > 0)
        {
            if (!TryParseFault(fault[0], out var parsed))
            {
                error = $"Unknown x-sim-fault '{fault[0]}'.";
                return false;
            }

            request.Fault = parsed;
        }

        return true;
    }

    public static bool TryParseFault(ReadOnlySpan<char> value, out SimulatedFault fault)
    {
        fault = value switch
        {
            "reset" => SimulatedFault.Reset,
            "reset_mid_stream" => SimulatedFault.ResetMidStream,
            "garbage_sse" => SimulatedFault.GarbageSse,
            "" or "none" => SimulatedFault.None,
            _ => (SimulatedFault)(-1),
        };
        return fault >= SimulatedFault.None;
    }

    private static bool TryInt(IHeaderDictionary headers, string name, out int? value, ref string? error)
    {
        value = null;
        var raw = headers[name];
        if (raw.Count == 0)
        {
            return true;
        }

        if (int.TryParse(raw[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) && parsed >= 0)
        {
            value = parsed;
            return true;
        }

        error = $"Header {name} must be a non-negative integer.";
        return false;
    }
}

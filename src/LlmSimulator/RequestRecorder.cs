using Microsoft.AspNetCore.Http;

namespace LlmSimulator;

/// <summary>Bounded ring of received requests; a lock is fine because recording is off under load.</summary>
internal sealed class RequestRecorder
{
    private readonly Lock _gate = new();
    private readonly Queue<ReceivedRequest> _requests = new();

    public void Record(HttpRequest request, ReadOnlySpan<byte> body, int capacity)
    {
        var headers = new Dictionary<string, string>(request.Headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers)
        {
            headers[header.Key] = header.Value.Count == 1 ? header.Value[0] ?? string.Empty : string.Join(", ", header.Value.ToArray());
        }

        var received = new ReceivedRequest(
            request.Method,
            request.Path.Value ?? string.Empty,
            request.QueryString.Value ?? string.Empty,
            headers,
            body.ToArray())
        {
            Protocol = request.Protocol,
            ConnectionId = request.HttpContext.Connection.Id,
        };

        lock (_gate)
        {
            _requests.Enqueue(received);
            while (_requests.Count > Math.Max(capacity, 0))
            {
                _requests.Dequeue();
            }
        }
    }

    public ReceivedRequest[] Snapshot()
    {
        lock (_gate)
        {
            return _requests.ToArray();
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }
}

using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace AiGateway.Parsing;

/// <summary>
/// The request body, read once into a pooled buffer with a size cap, so that policy can parse it and
/// the forwarder can send it (again, on failover) unchanged.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private byte[]? _buffer;
    private int _references = 1; // the request's own, released by Dispose; one more per write in progress
    private int _disposed;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>
    /// Reads the whole body. Returns null when it is larger than <paramref name="maxBytes"/> (the caller answers 413).
    /// </summary>
    public static async ValueTask<RequestBody?> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        // The gateway enforces its own cap with its own error shape, instead of Kestrel's 30 MB default.
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = maxBytes + 1;
        }

        PipeReader reader = request.BodyReader;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(cancellationToken);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return null;
            }

            var buffer = result.Buffer;
            if (buffer.Length > maxBytes)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                var length = (int)buffer.Length;
                var array = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                buffer.CopyTo(array);
                reader.AdvanceTo(buffer.End);
                return new RequestBody(array, length);
            }

            // Examine everything, consume nothing: the next read returns the whole body so far.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// Holds the buffer for a write from it (an upstream send): the pooled buffer goes back only when the request is
    /// over and no write is in progress. Throws when the request is already over.
    /// </summary>
    public Lease Hold()
    {
        int references;
        do
        {
            references = Volatile.Read(ref _references);
            ObjectDisposedException.ThrowIf(references == 0, this);
        }
        while (Interlocked.CompareExchange(ref _references, references + 1, references) != references);

        return new Lease(this);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            var buffer = Interlocked.Exchange(ref _buffer, null);
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>The body's bytes, valid until disposed.</summary>
    public readonly struct Lease(RequestBody body) : IDisposable
    {
        public ReadOnlyMemory<byte> Memory => body.Memory;

        public void Dispose() => body.Release();
    }
}

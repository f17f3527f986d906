using System.Text;
using AiGateway.Forwarding;
using AiGateway.Parsing;
using Microsoft.AspNetCore.Http;

namespace AiGateway.Tests.Parsing;

/// <summary>
/// The body's pooled buffer outlives the request for as long as an upstream write holds it (an HTTP/2 body can still be
/// sending when the response is complete); once it is released, nothing can read it again.
/// </summary>
public sealed class RequestBodyTests
{
    private static async Task<RequestBody> ReadAsync(string text)
    {
        var context = new DefaultHttpContext();
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        return await RequestBody.ReadAsync(context.Request, 1024, CancellationToken.None) ?? throw new InvalidOperationException("too large");
    }

    [Fact]
    public async Task A_held_body_stays_readable_after_the_request_ends_and_not_after_the_last_hold()
    {
        var body = await ReadAsync("""{"model":"m"}""");
        var lease = body.Hold();

        body.Dispose();
        body.Dispose(); // a second dispose does not release the hold

        Assert.Equal("""{"model":"m"}""", Encoding.UTF8.GetString(lease.Memory.Span));
        lease.Dispose();
        Assert.Throws<ObjectDisposedException>(() => body.Hold());
        Assert.ThrowsAny<ArgumentException>(() => body.Memory.ToArray()); // the buffer went back to the pool
    }

    [Fact]
    public async Task A_body_ended_without_holds_cannot_be_held()
    {
        var body = await ReadAsync("{}");

        body.Dispose();

        Assert.Throws<ObjectDisposedException>(() => body.Hold());
    }

    [Fact]
    public async Task The_upstream_content_can_be_sent_twice_and_has_its_length_and_type()
    {
        // SocketsHttpHandler sends a request again on a fresh connection when a pooled one turned out dead.
        using var body = await ReadAsync("""{"model":"m","messages":[]}""");
        using var content = new BufferedBodyContent(body, replacement: null);

        using var first = new MemoryStream();
        await content.CopyToAsync(first);
        using var again = new MemoryStream();
        await content.CopyToAsync(again);

        Assert.Equal("""{"model":"m","messages":[]}""", Encoding.UTF8.GetString(first.ToArray()));
        Assert.Equal(first.ToArray(), again.ToArray());
        Assert.Equal(first.Length, content.Headers.ContentLength);
        Assert.Equal("application/json", content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_rewritten_body_is_sent_instead_of_the_clients()
    {
        using var body = await ReadAsync("""{"model":"alias"}""");
        using var content = new BufferedBodyContent(body, Encoding.UTF8.GetBytes("""{"model":"upstream-name"}"""));

        Assert.Equal("""{"model":"upstream-name"}""", await content.ReadAsStringAsync());
        Assert.Equal(25, content.Headers.ContentLength);
    }
}

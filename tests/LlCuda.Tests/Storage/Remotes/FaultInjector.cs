using System.Collections.Concurrent;
using System.Net;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>
/// A handler between the client and a real server that records every request ("METHOD path")
/// and injects the faults a test asks for: a synthetic 5xx/429 answer, a connection dropped
/// halfway through sending the body, or one byte flipped in a response body.
/// </summary>
public sealed class FaultInjector : DelegatingHandler
{
    public FaultInjector() : base(new SocketsHttpHandler()) { }

    public ConcurrentQueue<string> Requests { get; } = new();
    public ConcurrentQueue<string> RangeHeaders { get; } = new();

    /// <summary>Decides the fault for a request: null to pass it through.</summary>
    public Func<HttpRequestMessage, Fault?> Rule { get; set; } = _ => null;

    public int Count(string method) => Requests.Count(r => r.StartsWith(method + " ", StringComparison.Ordinal));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Enqueue($"{request.Method} {request.RequestUri!.AbsolutePath}");
        if (request.Headers.Range is { } range) RangeHeaders.Enqueue(range.ToString());
        switch (Rule(request))
        {
            case Fault.Status s:
                return new HttpResponseMessage((HttpStatusCode)s.Code) { RequestMessage = request, Content = new StringContent("injected fault") };
            case Fault.DropMidBody:
                // Read half of the body the way a socket would before the peer vanishes.
                if (request.Content is { } content)
                {
                    long half = (content.Headers.ContentLength ?? 0) / 2;
                    await using var s = await content.ReadAsStreamAsync(cancellationToken);
                    var buf = new byte[64 << 10];
                    long read = 0;
                    int n;
                    while (read < half && (n = await s.ReadAsync(buf.AsMemory(0, (int)Math.Min(buf.Length, half - read)), cancellationToken)) > 0) read += n;
                }
                throw new HttpRequestException("injected: connection reset by peer", new IOException("connection reset by peer"));
            case Fault.FlipByte f:
                var response = await base.SendAsync(request, cancellationToken);
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (bytes.Length > f.Offset) bytes[f.Offset] ^= 0x40;
                var replaced = new ByteArrayContent(bytes);
                foreach (var h in response.Content.Headers) replaced.Headers.TryAddWithoutValidation(h.Key, h.Value);
                response.Content = replaced;
                return response;
            default:
                return await base.SendAsync(request, cancellationToken);
        }
    }
}

public abstract record Fault
{
    public sealed record Status(int Code) : Fault;
    public sealed record DropMidBody : Fault;
    public sealed record FlipByte(int Offset) : Fault;
}

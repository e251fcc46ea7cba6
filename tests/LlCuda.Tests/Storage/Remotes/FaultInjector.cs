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
            case Fault.Respond r:
                return r.Make(request);
            case Fault.DropResponseAfter d:
                var full = await base.SendAsync(request, cancellationToken);
                var body = await full.Content.ReadAsByteArrayAsync(cancellationToken);
                var cut = new StreamContent(new DroppingStream(body, d.Bytes));
                foreach (var h in full.Content.Headers) cut.Headers.TryAddWithoutValidation(h.Key, h.Value);
                full.Content = cut;
                return full;
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
    /// <summary>The response body breaks off with an IOException after this many bytes.</summary>
    public sealed record DropResponseAfter(int Bytes) : Fault;
    /// <summary>Answer without reaching the server.</summary>
    public sealed record Respond(Func<HttpRequestMessage, HttpResponseMessage> Make) : Fault;
}

/// <summary>Serves the first bytes of a body, then fails like a reset socket.</summary>
internal sealed class DroppingStream(byte[] body, int dropAfter) : Stream
{
    int _position;
    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_position >= dropAfter) throw new IOException("injected: connection reset by peer while reading the body");
        int n = Math.Min(count, Math.Min(dropAfter, body.Length) - _position);
        Array.Copy(body, _position, buffer, offset, n);
        _position += n;
        return n;
    }
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => body.Length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

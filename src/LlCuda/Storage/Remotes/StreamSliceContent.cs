using System.Net;

namespace LlCuda.Storage.Remotes;

/// <summary>
/// An HTTP body of exactly <c>length</c> bytes read from the current position of a source
/// stream, copied with a large buffer and reported to a progress sink as it goes. Used for
/// whole-blob PUTs and for each PATCH chunk, so no upload ever holds a blob in memory.
/// </summary>
internal sealed class StreamSliceContent : HttpContent
{
    readonly Stream _source;
    readonly long _length;
    readonly int _bufferSize;
    readonly Action<long>? _onBytes;

    public StreamSliceContent(Stream source, long length, int bufferSize, Action<long>? onBytes)
    {
        _source = source;
        _length = length;
        _bufferSize = (int)Math.Min(bufferSize, Math.Max(length, 1));
        _onBytes = onBytes;
        Headers.ContentType = new("application/octet-stream");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(_bufferSize);
        try
        {
            long left = _length;
            while (left > 0)
            {
                int n = await _source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct).ConfigureAwait(false);
                if (n == 0)
                    throw new EndOfStreamException($"the blob source ended {left:N0} bytes before the announced length of {_length:N0} bytes (was the file changed while uploading?)");
                await stream.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                left -= n;
                _onBytes?.Invoke(n);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length) { length = _length; return true; }
}

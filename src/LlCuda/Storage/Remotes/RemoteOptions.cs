namespace LlCuda.Storage.Remotes;

/// <summary>
/// Settings shared by <see cref="OciRegistryClient"/> and <see cref="HttpFilerClient"/>,
/// validated in one place (<see cref="Validate"/>).
/// </summary>
public sealed record RemoteOptions
{
    /// <summary>Tries per operation (first try included) on 5xx, 429 and dropped connections.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>Wait before the second try; doubles for each further try (200 ms, 400 ms, 800 ms).</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Blobs larger than this are uploaded in chunks (POST, PATCH..., PUT); smaller ones in one PUT.</summary>
    public long ChunkedUploadThreshold { get; init; } = 64L << 20;

    /// <summary>Bytes per PATCH of a chunked upload. One chunk is in flight at a time, streamed from the source.</summary>
    public long ChunkSize { get; init; } = 32L << 20;

    /// <summary>TCP connect timeout. Transfers themselves have no overall timeout: pass a CancellationToken.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Copy buffer for uploads and downloads. 1 MiB keeps syscalls and hash calls off the profile.</summary>
    public int BufferSize { get; init; } = 1 << 20;

    internal void Validate()
    {
        if (MaxAttempts is < 1 or > 20)
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "MaxAttempts must be 1..20");
        if (InitialBackoff < TimeSpan.Zero || InitialBackoff > TimeSpan.FromMinutes(1))
            throw new ArgumentOutOfRangeException(nameof(InitialBackoff), InitialBackoff, "InitialBackoff must be 0..60 s");
        if (ChunkSize < 1 << 10)
            throw new ArgumentOutOfRangeException(nameof(ChunkSize), ChunkSize, "ChunkSize must be at least 1 KiB");
        if (ChunkedUploadThreshold < 0)
            throw new ArgumentOutOfRangeException(nameof(ChunkedUploadThreshold), ChunkedUploadThreshold, "ChunkedUploadThreshold must be >= 0");
        if (BufferSize < 4096)
            throw new ArgumentOutOfRangeException(nameof(BufferSize), BufferSize, "BufferSize must be at least 4096");
    }
}

using System.Security.Cryptography;

namespace LlCuda.Storage;

/// <summary>Progress of a long blob operation: bytes done of bytes total.</summary>
public readonly record struct BlobProgress(long BytesDone, long BytesTotal);

/// <summary>
/// Content-addressed blobs under blobs/sha256/HEX. A blob is written to a temporary file in the
/// same directory while it is hashed, flushed to disk, then renamed to its digest: a reader (or a
/// crash) sees either no blob or the whole blob, never a partial one under a real name. Writing
/// content that is already stored keeps the existing blob, so identical content is stored once
/// and two processes putting the same file both succeed.
/// </summary>
public sealed class BlobStore
{
    // 4 MiB reads: large enough that the per-read cost (a syscall, a page-cache walk) is noise
    // next to SHA-256 itself (~1.3 GB/s with SHA-NI on the dev machine), small enough to stay in
    // cache while it is hashed and written. FileStream's default 4 KiB would be ~400k syscalls
    // for a 1.5 GB model.
    public const int BufferBytes = 4 << 20;

    readonly StoreLayout _layout;

    public BlobStore(StoreLayout layout) => _layout = layout;

    public bool Exists(Digest digest) => File.Exists(_layout.BlobPath(digest));

    public string PathOf(Digest digest) => _layout.BlobPath(digest);

    /// <summary>Size of a stored blob, or -1 when it is missing.</summary>
    public long SizeOf(Digest digest)
    {
        var info = new FileInfo(_layout.BlobPath(digest));
        return info.Exists ? info.Length : -1;
    }

    /// <summary>Stores a small in-memory blob (a manifest or config).</summary>
    public (Digest Digest, long Size) Put(ReadOnlySpan<byte> content)
    {
        var digest = Digest.FromHash(SHA256.HashData(content));
        string final = _layout.BlobPath(digest);
        if (File.Exists(final)) return (digest, content.Length);
        Directory.CreateDirectory(_layout.BlobDirectory);
        string temp = StoreLayout.TempPathBeside(final);
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(content);
                fs.Flush(flushToDisk: true);
            }
            Commit(temp, final);
        }
        finally { File.Delete(temp); }
        return (digest, content.Length);
    }

    /// <summary>
    /// Copies <paramref name="sourcePath"/> into the store, hashing as it goes. The copy is written
    /// while the previous chunk is hashed (two buffers), so a put costs about one hash pass plus a
    /// little, not hash + write one after the other.
    /// </summary>
    public (Digest Digest, long Size) PutFile(string sourcePath, Action<BlobProgress>? progress = null, CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(_layout.BlobDirectory);
        using var source = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long total = source.Length;
        // Writing is disk-bound (a put of 1.5 GB: ~6 s, the disk's fsync'd write speed; hashing
        // alone: ~1.2 s). When a stored blob has the same size the file may already be stored
        // (a re-put, a second tag): hash it first and skip the write when it is. No blob of the
        // same size means it cannot be stored yet, so a new file costs one pass, not two.
        if (new DirectoryInfo(_layout.BlobDirectory).EnumerateFiles().Any(f => f.Length == total && Digest.IsLowerHex(f.Name)))
        {
            var existing = HashStream(source, progress);
            if (Exists(existing)) return (existing, total);
            source.Position = 0;
        }
        string temp = StoreLayout.TempPathBeside(Path.Combine(_layout.BlobDirectory, "x"));
        try
        {
            Digest digest;
            using (var output = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, total))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                byte[][] buffers = [new byte[BufferBytes], new byte[BufferBytes]];
                Task pendingWrite = Task.CompletedTask;
                long offset = 0;
                for (int i = 0; ; i++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    byte[] buffer = buffers[i & 1];
                    int n = source.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                    if (n == 0) break;
                    pendingWrite.GetAwaiter().GetResult();
                    long at = offset;
                    var chunk = new ReadOnlyMemory<byte>(buffer, 0, n);
                    pendingWrite = Task.Run(() => RandomAccess.Write(output, chunk.Span, at), CancellationToken.None);
                    hash.AppendData(buffer, 0, n);
                    offset += n;
                    progress?.Invoke(new BlobProgress(offset, total));
                }
                pendingWrite.GetAwaiter().GetResult();
                if (offset != total)
                    throw new IOException($"{sourcePath}: changed while it was stored ({total:N0} bytes at the start, {offset:N0} read); put it again");
                RandomAccess.FlushToDisk(output);
                digest = Digest.FromHash(hash.GetHashAndReset());
            }
            Commit(temp, _layout.BlobPath(digest));
            return (digest, total);
        }
        finally { File.Delete(temp); }
    }

    // Renames the flushed temp file to its digest. When the blob already exists (the same content
    // put before, or by another process right now) the existing one is kept: it has the same bytes.
    static void Commit(string temp, string final)
    {
        if (File.Exists(final)) return;
        try { File.Move(temp, final, overwrite: false); }
        catch (IOException) when (File.Exists(final)) { }
        // The directory entry itself is not fsync'd (.NET cannot open a directory): after a power
        // loss the blob may be missing, never partial; verify reports it and a put restores it.
    }

    /// <summary>Re-hashes a stored blob; returns the digest its bytes have now.</summary>
    public Digest Hash(Digest digest, Action<BlobProgress>? progress = null) => HashFile(_layout.BlobPath(digest), progress);

    public static Digest HashFile(string path, Action<BlobProgress>? progress = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return HashStream(stream, progress);
    }

    static Digest HashStream(FileStream stream, Action<BlobProgress>? progress)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[BufferBytes];
        long done = 0, total = stream.Length;
        int n;
        while ((n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
        {
            hash.AppendData(buffer, 0, n);
            done += n;
            progress?.Invoke(new BlobProgress(done, total));
        }
        return Digest.FromHash(hash.GetHashAndReset());
    }

    /// <summary>Every blob digest on disk (temporary files excluded).</summary>
    public IEnumerable<Digest> All()
    {
        if (!Directory.Exists(_layout.BlobDirectory)) yield break;
        foreach (var path in Directory.EnumerateFiles(_layout.BlobDirectory))
        {
            string name = Path.GetFileName(path);
            if (Digest.IsLowerHex(name)) yield return Digest.FromHex(name);
        }
    }

    /// <summary>Temporary files in the blob directory (left by a killed put).</summary>
    public IEnumerable<FileInfo> TempFiles() => Directory.Exists(_layout.BlobDirectory)
        ? new DirectoryInfo(_layout.BlobDirectory).EnumerateFiles(".tmp-*")
        : [];

    public void Delete(Digest digest) => File.Delete(_layout.BlobPath(digest));
}

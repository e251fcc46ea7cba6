using System.Net;
using System.Security.Cryptography;

namespace LlCuda.Storage.Remotes;

/// <summary>
/// Downloads a blob to <c>destination + ".partial"</c>, resuming an existing partial file with a
/// Range request, hashing every byte as it is written (the existing prefix first), and renaming
/// into place only when the sha256 matches. A mismatch deletes the partial file and throws:
/// a corrupt file never appears at the destination. Shared by both remote clients.
/// </summary>
internal static class ResumableDownload
{
    public const string PartialSuffix = ".partial";

    /// <param name="send">Sends the GET; the argument is the byte offset to resume from (0: no Range header).</param>
    /// <param name="expectedDigest">sha256:hex the bytes must have.</param>
    /// <returns>The bytes the destination holds.</returns>
    public static async Task<long> RunAsync(RemoteHttp remote, string operation, Func<long, CancellationToken, Task<HttpResponseMessage>> send,
        string expectedDigest, string destination, IProgress<long>? progress, CancellationToken ct)
    {
        string partial = destination + PartialSuffix;
        if (Path.GetDirectoryName(Path.GetFullPath(destination)) is { } dir) Directory.CreateDirectory(dir);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(remote.Options.BufferSize);
        try
        {
            await using var file = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None,
                bufferSize: 0, FileOptions.Asynchronous);
            long have = await HashPrefixAsync(file, hash, buffer, ct).ConfigureAwait(false);
            // A partial file that is already complete (a crash between the last write and the
            // rename) needs no request at all.
            if (have > 0 && Sha256Digest.FromHash(hash.GetCurrentHash()) == expectedDigest)
                return Finish(file, partial, destination, have);

            using (var response = await send(have, ct).ConfigureAwait(false))
            {
                if (have > 0 && response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    // The partial file is at least as long as the blob yet does not hash right:
                    // it is garbage, not a prefix.
                    Discard(file, partial);
                    throw new RemoteStorageException(
                        $"{remote.Name}: {operation}: the partial file {partial} ({have:N0} bytes) is not a prefix of {expectedDigest} (the server has fewer bytes); it was deleted, run the command again",
                        416);
                }
                await remote.EnsureStatusAsync(response, operation, ct, HttpStatusCode.OK, HttpStatusCode.PartialContent).ConfigureAwait(false);
                if (have > 0 && response.StatusCode == HttpStatusCode.OK)
                {
                    // The server ignored Range and sent the whole blob: start over.
                    file.SetLength(0);
                    file.Position = 0;
                    hash.GetHashAndReset();
                    have = 0;
                }
                else if (have > 0 && response.Content.Headers.ContentRange?.From is long from && from != have)
                {
                    throw new RemoteStorageException($"{remote.Name}: {operation}: asked for bytes from {have:N0} but got a range starting at {from:N0} (a proxy rewriting ranges?)");
                }
                progress?.Report(have);

                file.Position = have;
                await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                int n;
                while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                    have += n;
                    progress?.Report(have);
                }
            }

            string actual = Sha256Digest.FromHash(hash.GetCurrentHash());
            if (actual != expectedDigest)
            {
                Discard(file, partial);
                throw new RemoteStorageException(
                    $"{remote.Name}: {operation}: the {have:N0} bytes received hash to {actual}, not {expectedDigest} (corrupted in transit or on the server); the partial file was deleted, run the command again and, if it repeats, check the server's copy");
            }
            return Finish(file, partial, destination, have);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    static async Task<long> HashPrefixAsync(FileStream file, IncrementalHash hash, byte[] buffer, CancellationToken ct)
    {
        long total = 0;
        int n;
        file.Position = 0;
        while ((n = await file.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, n);
            total += n;
        }
        return total;
    }

    static long Finish(FileStream file, string partial, string destination, long length)
    {
        file.Flush(flushToDisk: true);
        file.Dispose();
        // Atomic on one file system: readers see either no file or the whole verified blob.
        File.Move(partial, destination, overwrite: true);
        return length;
    }

    static void Discard(FileStream file, string partial)
    {
        file.Dispose();
        File.Delete(partial);
    }
}

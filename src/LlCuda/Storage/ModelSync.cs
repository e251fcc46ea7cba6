namespace LlCuda.Storage;

/// <summary>What a push or pull moved: blobs sent or fetched, blobs the other side already had, bytes.</summary>
public sealed record SyncResult(string Remote, ModelReference Local, Digest Manifest, int BlobsMoved, int BlobsSkipped, long BytesMoved);

/// <summary>
/// Moves models between the local store and a remote (<see cref="IModelRemote"/>: an OCI
/// registry or an HTTP filer). Push sends each blob the remote lacks (asked with HEAD first),
/// then the manifest under the remote name, so a tag is never written before its blobs. Pull fetches the manifest, refuses anything that is not a
/// model manifest, downloads each missing blob straight into the store's blob folder through a
/// ".partial" file (a killed pull resumes with Range; the digest is checked before the rename,
/// so no partial blob is ever under a real name), and tags last.
/// </summary>
public static class ModelSync
{
    // Longest a pull waits for another process's download of the same blob.
    static readonly TimeSpan BlobDownloadWait = TimeSpan.FromHours(1);

    public static async Task<SyncResult> PushAsync(ModelStore store, ModelReference local, IModelRemote remote,
        IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(remote);
        var model = store.Describe(local);
        int moved = 0, skipped = 0;
        long bytes = 0;
        foreach (var blob in model.Manifest.Blobs)
        {
            long size = store.Blobs.SizeOf(blob);
            if (size < 0)
                throw new StoreException(StoreFailure.Corrupt, $"model '{local}': blob {blob} is missing; run 'llcuda storage verify', then put or pull it again");
            await using var stream = new FileStream(store.Blobs.PathOf(blob), FileMode.Open, FileAccess.Read, FileShare.Read, BlobStore.BufferBytes, FileOptions.SequentialScan);
            if (await remote.PushBlobAsync(blob, stream, size, progress, ct).ConfigureAwait(false))
            {
                moved++;
                bytes += size;
            }
            else skipped++;
        }
        byte[] manifest = await File.ReadAllBytesAsync(store.Blobs.PathOf(model.Tag.Manifest), ct).ConfigureAwait(false);
        await remote.PutManifestAsync(manifest, ct).ConfigureAwait(false);
        return new SyncResult(remote.Name, local, model.Tag.Manifest, moved, skipped, bytes);
    }

    public static async Task<SyncResult> PullAsync(ModelStore store, IModelRemote remote, ModelReference local,
        IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(remote);
        var (bytes, mediaType, digest) = await remote.GetManifestAsync(ct).ConfigureAwait(false);
        if (mediaType is not null && mediaType != MediaTypes.OciManifest)
            throw new StoreException(StoreFailure.Corrupt, $"{remote.Name}: the remote serves a manifest of type '{mediaType}', not an OCI model manifest ({MediaTypes.OciManifest}); is it a container image or an index?");
        var manifest = ModelManifest.Parse(bytes, remote.Name);
        _ = manifest.Weights; // not a GGUF model: refused before any download
        int moved = 0, skipped = 0;
        long total = 0;
        foreach (var blob in manifest.Blobs)
        {
            if (store.Blobs.Exists(blob)) { skipped++; continue; }
            string path = store.Blobs.PathOf(blob);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // One download per blob across processes: a second pull of the same model waits here
            // (flock, released by the kernel even on kill -9), then finds the blob in place.
            using (StoreLock.AcquireFile(path + ".lock", BlobDownloadWait,
                e => $"blob {blob}: another llcuda process has been downloading it for over {BlobDownloadWait.TotalMinutes:F0} minutes ({e.Message}); try again when it finishes"))
            {
                if (store.Blobs.Exists(blob)) { skipped++; continue; }
                total += await remote.PullBlobAsync(blob, path, progress, ct).ConfigureAwait(false);
                moved++;
            }
        }
        var tagged = store.TagManifest(local, bytes, Digest.Parse(digest));
        return new SyncResult(remote.Name, local, tagged, moved, skipped, total);
    }
}

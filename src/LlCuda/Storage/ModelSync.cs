using LlCuda.Storage.Remotes;

namespace LlCuda.Storage;

/// <summary>What a push or pull moved: blobs sent or fetched, blobs the other side already had, bytes.</summary>
public sealed record SyncResult(string Remote, ModelReference Local, Digest Manifest, int BlobsMoved, int BlobsSkipped, long BytesMoved);

/// <summary>
/// Moves models between the local store and an OCI registry. Push sends each blob the registry
/// lacks (the client asks with HEAD first), then the manifest under the remote tag, so a tag is
/// never written before its blobs. Pull fetches the manifest, refuses anything that is not a
/// model manifest, downloads each missing blob straight into the store's blob folder through a
/// ".partial" file (a killed pull resumes with Range; the digest is checked before the rename,
/// so no partial blob is ever under a real name), and tags last.
/// </summary>
public static class ModelSync
{
    public static async Task<SyncResult> PushAsync(ModelStore store, ModelReference local, Reference remote, OciRegistryClient client,
        IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(client);
        if (remote.Digest is not null)
            throw new StoreException(StoreFailure.BadReference, $"{remote}: push to a tag, not a digest (e.g. {remote.Registry}/{remote.Repository}:latest)");
        var model = store.Describe(local);
        int moved = 0, skipped = 0;
        long bytes = 0;
        foreach (var blob in model.Manifest.Blobs)
        {
            long size = store.Blobs.SizeOf(blob);
            if (size < 0)
                throw new StoreException(StoreFailure.Corrupt, $"model '{local}': blob {blob} is missing; run 'llcuda storage verify', then put or pull it again");
            await using var stream = new FileStream(store.Blobs.PathOf(blob), FileMode.Open, FileAccess.Read, FileShare.Read, BlobStore.BufferBytes, FileOptions.SequentialScan);
            if (await client.PushBlobAsync(remote.Repository, blob.ToString(), stream, size, progress, ct).ConfigureAwait(false))
            {
                moved++;
                bytes += size;
            }
            else skipped++;
        }
        byte[] manifest = await File.ReadAllBytesAsync(store.Blobs.PathOf(model.Tag.Manifest), ct).ConfigureAwait(false);
        await client.PutManifestAsync(remote.Repository, remote.Tag ?? "latest", MediaTypes.OciManifest, manifest, ct).ConfigureAwait(false);
        return new SyncResult(remote.ToString(), local, model.Tag.Manifest, moved, skipped, bytes);
    }

    public static async Task<SyncResult> PullAsync(ModelStore store, Reference remote, ModelReference local, OciRegistryClient client,
        IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(client);
        var (bytes, mediaType, digest) = await client.GetManifestAsync(remote.Repository, remote.ManifestReference, ct).ConfigureAwait(false);
        if (mediaType != MediaTypes.OciManifest)
            throw new StoreException(StoreFailure.Corrupt, $"{remote}: the registry serves a manifest of type '{mediaType}', not an OCI model manifest ({MediaTypes.OciManifest}); is it a container image or an index?");
        var manifest = ModelManifest.Parse(bytes, remote.ToString());
        _ = manifest.Weights; // not a GGUF model: refused before any download
        int moved = 0, skipped = 0;
        long total = 0;
        foreach (var blob in manifest.Blobs)
        {
            if (store.Blobs.Exists(blob)) { skipped++; continue; }
            string path = store.Blobs.PathOf(blob);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            total += await client.PullBlobAsync(remote.Repository, blob.ToString(), path, progress, ct).ConfigureAwait(false);
            moved++;
        }
        var tagged = store.TagManifest(local, bytes, Digest.Parse(digest));
        return new SyncResult(remote.ToString(), local, tagged, moved, skipped, total);
    }
}

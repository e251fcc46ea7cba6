using LlCuda.Storage.Remotes;

namespace LlCuda.Storage;

/// <summary>
/// One model's place on a remote, as push and pull need it: blobs by digest and the model's
/// manifest. Two kinds: a tag in an OCI registry, or name/tag on an HTTP filer.
/// </summary>
public interface IModelRemote
{
    /// <summary>The model on the remote, for messages ("127.0.0.1:5000/library/stories:260k").</summary>
    string Name { get; }

    /// <summary>Uploads a blob unless the remote has it; false when skipped.</summary>
    Task<bool> PushBlobAsync(Digest digest, Stream content, long length, IProgress<long>? progress, CancellationToken ct);

    /// <summary>Downloads a blob to <paramref name="path"/> (verified, resumable); returns its length.</summary>
    Task<long> PullBlobAsync(Digest digest, string path, IProgress<long>? progress, CancellationToken ct);

    Task PutManifestAsync(byte[] manifest, CancellationToken ct);

    /// <summary>The manifest's bytes, media type (null when the remote does not say) and digest.</summary>
    Task<(byte[] Bytes, string? MediaType, string Digest)> GetManifestAsync(CancellationToken ct);
}

/// <summary>A tag (or digest) in an OCI registry.</summary>
public sealed class RegistryModelRemote(OciRegistryClient client, Reference reference) : IModelRemote
{
    public string Name => reference.ToString();

    public Task<bool> PushBlobAsync(Digest digest, Stream content, long length, IProgress<long>? progress, CancellationToken ct)
    {
        if (reference.Digest is not null)
            throw new StoreException(StoreFailure.BadReference, $"{reference}: push to a tag, not a digest (e.g. {reference.Registry}/{reference.Repository}:latest)");
        return client.PushBlobAsync(reference.Repository, digest.ToString(), content, length, progress, ct);
    }

    public Task<long> PullBlobAsync(Digest digest, string path, IProgress<long>? progress, CancellationToken ct) =>
        client.PullBlobAsync(reference.Repository, digest.ToString(), path, progress, ct);

    public Task PutManifestAsync(byte[] manifest, CancellationToken ct) =>
        client.PutManifestAsync(reference.Repository, reference.Tag ?? ModelReference.DefaultTag, MediaTypes.OciManifest, manifest, ct);

    public async Task<(byte[] Bytes, string? MediaType, string Digest)> GetManifestAsync(CancellationToken ct) =>
        await client.GetManifestAsync(reference.Repository, reference.ManifestReference, ct).ConfigureAwait(false);
}

/// <summary>name:tag on an HTTP filer (SeaweedFS style): blobs under their digest, the manifest under the name.</summary>
public sealed class FilerModelRemote(HttpFilerClient client, ModelReference reference) : IModelRemote
{
    public string Name => $"{client.BaseUri}{HttpFilerClient.ManifestPath(reference.Name, reference.Tag)}";

    public Task<bool> PushBlobAsync(Digest digest, Stream content, long length, IProgress<long>? progress, CancellationToken ct) =>
        client.PushBlobAsync(digest.ToString(), content, length, progress, ct);

    public Task<long> PullBlobAsync(Digest digest, string path, IProgress<long>? progress, CancellationToken ct) =>
        client.PullBlobAsync(digest.ToString(), path, progress, ct);

    public Task PutManifestAsync(byte[] manifest, CancellationToken ct) => client.PutManifestAsync(reference.Name, reference.Tag, manifest, ct);

    public async Task<(byte[] Bytes, string? MediaType, string Digest)> GetManifestAsync(CancellationToken ct) =>
        await client.GetManifestAsync(reference.Name, reference.Tag, ct).ConfigureAwait(false) is { } m
            ? (m.Bytes, null, m.Digest)
            : throw new StoreException(StoreFailure.NotFound, $"unknown model '{reference}' on the filer {client.BaseUri} (push it there first: llcuda storage push {reference} --storage-url {client.BaseUri})");
}

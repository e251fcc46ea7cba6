using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace LlCuda.Storage.Remotes;

/// <summary>
/// A client for the OCI distribution API (/v2/...), as served by CNCF distribution, Docker Hub,
/// GHCR and Harbor: blob HEAD/push/pull, manifest put/get and tag listing for one registry.
/// Blobs stream through 1 MiB buffers in both directions and are sha256-verified on the way
/// down; see <see cref="RemoteHttp"/> for the auth and retry rules.
/// </summary>
public sealed class OciRegistryClient : IDisposable
{
    // Manifests are small JSON documents; a cap keeps a hostile server from filling memory.
    const int MaxManifestBytes = 4 << 20;

    readonly RemoteHttp _remote;

    /// <param name="baseUri">The registry, e.g. http://127.0.0.1:5000 (path ignored).</param>
    /// <param name="handler">Replaces the default SocketsHttpHandler (tests wrap it to inject faults).</param>
    public OciRegistryClient(Uri baseUri, RemoteCredentials? credentials = null, RemoteOptions? options = null, HttpMessageHandler? handler = null)
        => _remote = new RemoteHttp(baseUri, "OCI registry", credentials, options, handler);

    public Uri BaseUri => _remote.BaseUri;

    // ---- blobs ----

    /// <summary>True when the registry has the blob in <paramref name="repository"/> (HEAD /v2/REPO/blobs/DIGEST).</summary>
    public Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken ct = default)
    {
        Reference.CheckRepository(repository);
        Sha256Digest.Check(digest);
        return _remote.RetryAsync($"HEAD blob {repository}@{digest}", async c =>
        {
            using var response = await _remote.SendAsync(() => new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/blobs/{digest}"), c).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound) return false;
            await _remote.EnsureStatusAsync(response, $"HEAD blob {repository}@{digest}", c, HttpStatusCode.OK).ConfigureAwait(false);
            return true;
        }, ct);
    }

    /// <summary>
    /// Uploads <paramref name="length"/> bytes from <paramref name="content"/> as blob
    /// <paramref name="digest"/>, unless the registry already has it (then returns false and
    /// reads nothing). Blobs up to ChunkedUploadThreshold go in one PUT; larger ones in
    /// ChunkSize PATCHes. A retry restarts the upload session, so <paramref name="content"/>
    /// must be seekable for retries to happen (a FileStream is).
    /// </summary>
    /// <returns>True when uploaded, false when skipped.</returns>
    public async Task<bool> PushBlobAsync(string repository, string digest, Stream content, long length,
        IProgress<long>? progress = null, CancellationToken ct = default)
    {
        Reference.CheckRepository(repository);
        Sha256Digest.Check(digest);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (await BlobExistsAsync(repository, digest, ct).ConfigureAwait(false))
        {
            progress?.Report(length);
            return false;
        }

        string operation = $"push blob {repository}@{digest} ({length:N0} bytes)";
        long start = content.CanSeek ? content.Position : -1;
        int tries = 0;
        await _remote.RetryAsync(operation, async c =>
        {
            if (tries++ > 0)
            {
                if (start < 0)
                    throw new RemoteStorageException($"{_remote.Name}: {operation} failed and cannot be retried because the source stream cannot seek (pass a FileStream)");
                content.Position = start;
            }
            long sent = 0;
            Action<long> onBytes = n => { sent += n; progress?.Report(sent); };
            progress?.Report(0);

            string location = await StartUploadAsync(repository, operation, c).ConfigureAwait(false);
            if (length > _remote.Options.ChunkedUploadThreshold)
            {
                long offset = 0;
                while (offset < length)
                {
                    long chunk = Math.Min(_remote.Options.ChunkSize, length - offset);
                    long from = offset;
                    // Each PATCH body is read from the stream as it is sent; the stream's position
                    // after a chunk is the start of the next.
                    using var response = await _remote.SendAsync(() =>
                    {
                        // Rewind for the auth retry inside SendAsync (a token expiring mid-upload).
                        if (start >= 0) content.Position = start + from;
                        var request = new HttpRequestMessage(HttpMethod.Patch, location)
                        {
                            Content = new StreamSliceContent(content, chunk, _remote.Options.BufferSize, onBytes),
                        };
                        // Distribution's form: "start-end" inclusive, no unit.
                        request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{from}-{from + chunk - 1}");
                        return request;
                    }, c).ConfigureAwait(false);
                    await _remote.EnsureStatusAsync(response, operation + $" (PATCH bytes {from:N0}..)", c, HttpStatusCode.Accepted, HttpStatusCode.NoContent).ConfigureAwait(false);
                    location = NextLocation(response, location);
                    offset += chunk;
                }
                using var put = await _remote.SendAsync(() => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, digest))
                {
                    Content = new ByteArrayContent([]) { Headers = { ContentType = new("application/octet-stream") } },
                }, c).ConfigureAwait(false);
                await CheckUploadedAsync(put, operation, digest, c).ConfigureAwait(false);
            }
            else
            {
                using var put = await _remote.SendAsync(() =>
                {
                    if (start >= 0) content.Position = start;
                    return new HttpRequestMessage(HttpMethod.Put, WithDigest(location, digest))
                    {
                        Content = new StreamSliceContent(content, length, _remote.Options.BufferSize, onBytes),
                    };
                }, c).ConfigureAwait(false);
                await CheckUploadedAsync(put, operation, digest, c).ConfigureAwait(false);
            }
            return true;
        }, ct).ConfigureAwait(false);
        return true;
    }

    async Task<string> StartUploadAsync(string repository, string operation, CancellationToken ct)
    {
        using var response = await _remote.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"v2/{repository}/blobs/uploads/")
        {
            Content = new ByteArrayContent([]),
        }, ct).ConfigureAwait(false);
        await _remote.EnsureStatusAsync(response, operation + " (start upload)", ct, HttpStatusCode.Accepted).ConfigureAwait(false);
        return response.Headers.Location is { } location ? location.ToString()
            : throw new RemoteStorageException($"{_remote.Name}: {operation}: the upload was accepted but no Location header came back (not an OCI registry?)");
    }

    async Task CheckUploadedAsync(HttpResponseMessage response, string operation, string digest, CancellationToken ct)
    {
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            // Distribution answers 400 DIGEST_INVALID when the bytes do not hash to the digest:
            // the caller's digest or data is wrong, and retrying cannot help.
            await _remote.EnsureStatusAsync(response, operation + " (the registry hashed the uploaded bytes and they do not match the digest: is the file the one the digest was computed from?)", ct).ConfigureAwait(false);
        }
        await _remote.EnsureStatusAsync(response, operation, ct, HttpStatusCode.Created, HttpStatusCode.NoContent, HttpStatusCode.OK).ConfigureAwait(false);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.FirstOrDefault() is { } echoed && echoed != digest)
            throw new RemoteStorageException($"{_remote.Name}: {operation}: the registry stored the blob as {echoed}, not {digest}");
    }

    static string NextLocation(HttpResponseMessage response, string previous) =>
        response.Headers.Location?.ToString() ?? previous;

    // Location may be absolute or relative and usually carries state (?_state=...): append.
    static string WithDigest(string location, string digest) =>
        location + (location.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest);

    /// <summary>
    /// Downloads blob <paramref name="digest"/> to <paramref name="destinationPath"/> through
    /// a ".partial" file, resuming a partial file left by an earlier try, verifying the sha256
    /// and renaming only when it matches.
    /// </summary>
    /// <returns>The blob's length in bytes.</returns>
    public Task<long> PullBlobAsync(string repository, string digest, string destinationPath,
        IProgress<long>? progress = null, CancellationToken ct = default)
    {
        Reference.CheckRepository(repository);
        Sha256Digest.Check(digest);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        string operation = $"pull blob {repository}@{digest}";
        return _remote.RetryAsync(operation, c => ResumableDownload.RunAsync(_remote, operation,
            (offset, c2) => _remote.SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/blobs/{digest}");
                if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
                return request;
            }, c2),
            digest, destinationPath, progress, c), ct);
    }

    // ---- manifests ----

    /// <summary>PUT /v2/REPO/manifests/REFERENCE; returns the manifest's digest (sha256 of the bytes).</summary>
    public Task<string> PutManifestAsync(string repository, string reference, string mediaType, ReadOnlyMemory<byte> bytes, CancellationToken ct = default)
    {
        Reference.CheckRepository(repository);
        CheckManifestReference(reference);
        ArgumentException.ThrowIfNullOrEmpty(mediaType);
        string digest = Sha256Digest.Of(bytes.Span);
        if (Sha256Digest.IsValid(reference) && reference != digest)
            throw new ArgumentException($"manifest pushed by digest {reference} but its bytes hash to {digest}", nameof(reference));
        string operation = $"put manifest {repository}:{reference}";
        return _remote.RetryAsync(operation, async c =>
        {
            using var response = await _remote.SendAsync(() => new HttpRequestMessage(HttpMethod.Put, $"v2/{repository}/manifests/{reference}")
            {
                Content = new ReadOnlyMemoryContent(bytes) { Headers = { ContentType = new(mediaType) } },
            }, c).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.BadRequest)
                await _remote.EnsureStatusAsync(response, operation + " (the registry rejected the manifest: are all its layers and config pushed to this repository?)", c).ConfigureAwait(false);
            await _remote.EnsureStatusAsync(response, operation, c, HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.Accepted).ConfigureAwait(false);
            if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.FirstOrDefault() is { } echoed && echoed != digest)
                throw new RemoteStorageException($"{_remote.Name}: {operation}: the registry says the manifest is {echoed} but its bytes hash to {digest}");
            return digest;
        }, ct);
    }

    /// <summary>
    /// GET /v2/REPO/manifests/REFERENCE (tag or digest). Verifies the bytes against the digest
    /// asked for, or against Docker-Content-Digest when fetched by tag.
    /// </summary>
    public Task<(byte[] Bytes, string MediaType, string Digest)> GetManifestAsync(string repository, string reference, CancellationToken ct = default)
    {
        Reference.CheckRepository(repository);
        CheckManifestReference(reference);
        string operation = $"get manifest {repository}:{reference}";
        return _remote.RetryAsync(operation, async c =>
        {
            using var response = await _remote.SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{reference}");
                foreach (var type in (ReadOnlySpan<string>)[OciMediaTypes.ImageManifest, OciMediaTypes.ImageIndex, OciMediaTypes.DockerManifest, OciMediaTypes.DockerManifestList])
                    request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
                return request;
            }, c).ConfigureAwait(false);
            await _remote.EnsureStatusAsync(response, operation, c, HttpStatusCode.OK).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength > MaxManifestBytes)
                throw new RemoteStorageException($"{_remote.Name}: {operation}: the manifest is {response.Content.Headers.ContentLength:N0} bytes, more than the {MaxManifestBytes:N0} a manifest may have (is the reference a blob?)");
            byte[] bytes = await response.Content.ReadAsByteArrayAsync(c).ConfigureAwait(false);
            string digest = Sha256Digest.Of(bytes);
            string expected = Sha256Digest.IsValid(reference) ? reference
                : response.Headers.TryGetValues("Docker-Content-Digest", out var v) && v.FirstOrDefault() is { } h ? h : digest;
            if (expected != digest)
                throw new RemoteStorageException($"{_remote.Name}: {operation}: the manifest bytes hash to {digest}, not {expected} (corrupted in transit or a misbehaving proxy; run the command again)");
            string mediaType = response.Content.Headers.ContentType?.MediaType ?? MediaTypeFromBody(bytes);
            return (bytes, mediaType, digest);
        }, ct);
    }

    static string MediaTypeFromBody(byte[] bytes)
    {
        try
        {
            using var json = JsonDocument.Parse(bytes);
            return json.RootElement.TryGetProperty("mediaType", out var m) && m.GetString() is { } s ? s : OciMediaTypes.ImageManifest;
        }
        catch (JsonException) { return OciMediaTypes.ImageManifest; }
    }

    static void CheckManifestReference(string reference)
    {
        if (Sha256Digest.IsValid(reference)) return;
        if (reference.StartsWith("sha256:", StringComparison.Ordinal)) Sha256Digest.Check(reference, nameof(reference));
        if (!Reference.TryParse("h/r:" + reference, out var r, out _) || r.Tag != reference)
            throw new ArgumentException($"'{reference}' is neither a tag (1..128 letters, digits, '_', '.', '-') nor a sha256:<64 hex> digest", nameof(reference));
    }

    // ---- tags ----

    /// <summary>GET /v2/REPO/tags/list, following Link: rel="next" pages. A repository the registry does not know has no tags.</summary>
    public Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken ct = default)
    {
        Reference.CheckRepository(repository);
        string operation = $"list tags of {repository}";
        return _remote.RetryAsync<IReadOnlyList<string>>(operation, async c =>
        {
            var tags = new List<string>();
            string? next = $"v2/{repository}/tags/list";
            for (int page = 0; next is not null && page < 10_000; page++)
            {
                string url = next;
                using var response = await _remote.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), c).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotFound) return tags;
                await _remote.EnsureStatusAsync(response, operation, c, HttpStatusCode.OK).ConfigureAwait(false);
                await using var body = await response.Content.ReadAsStreamAsync(c).ConfigureAwait(false);
                using var json = await JsonDocument.ParseAsync(body, cancellationToken: c).ConfigureAwait(false);
                if (json.RootElement.TryGetProperty("tags", out var array) && array.ValueKind == JsonValueKind.Array)
                    foreach (var t in array.EnumerateArray())
                        if (t.GetString() is { } tag) tags.Add(tag);
                next = NextPage(response);
            }
            return tags;
        }, ct);
    }

    // Link: </v2/repo/tags/list?last=x&n=100>; rel="next"
    static string? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links)
        {
            int open = link.IndexOf('<'), close = link.IndexOf('>');
            if (open >= 0 && close > open && link.Contains("rel=\"next\"", StringComparison.Ordinal))
                return link[(open + 1)..close].TrimStart('/');
        }
        return null;
    }

    public void Dispose() => _remote.Dispose();
}

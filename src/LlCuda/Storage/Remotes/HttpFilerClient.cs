using System.Net;
using System.Net.Http.Headers;

namespace LlCuda.Storage.Remotes;

/// <summary>
/// A client for a plain HTTP file server with PUT/GET/HEAD/DELETE on paths: SeaweedFS's filer
/// (<c>--storage-url http://host:8888</c>), or nginx/Apache with WebDAV PUT. Layout:
/// <code>
///   /llcuda/blobs/sha256/&lt;hex&gt;           blob bytes, named by their sha256
///   /llcuda/manifests/&lt;name&gt;/&lt;tag&gt;       manifest JSON of model name:tag
/// </code>
/// Same retry and auth rules as <see cref="OciRegistryClient"/> (<see cref="RemoteHttp"/>);
/// downloads resume and verify the same way.
/// </summary>
public sealed class HttpFilerClient : IDisposable
{
    public const string Root = "llcuda";

    readonly RemoteHttp _remote;

    public HttpFilerClient(Uri baseUri, RemoteCredentials? credentials = null, RemoteOptions? options = null, HttpMessageHandler? handler = null)
        => _remote = new RemoteHttp(baseUri, "HTTP filer", credentials, options, handler);

    public Uri BaseUri => _remote.BaseUri;

    /// <summary>"llcuda/blobs/sha256/&lt;hex&gt;" (relative to the filer root).</summary>
    public static string BlobPath(string digest) => $"{Root}/blobs/sha256/{Sha256Digest.Hex(digest)}";

    /// <summary>"llcuda/manifests/&lt;name&gt;/&lt;tag&gt;"; name is a repository-style path (lowercase, '/'-separated).</summary>
    public static string ManifestPath(string name, string tag)
    {
        var r = Reference.Parse($"h/{name}:{tag}");
        return $"{Root}/manifests/{r.Repository}/{r.Tag}";
    }

    // ---- plain file operations ----

    /// <summary>HEAD: the file's length, or null when there is no such file.</summary>
    public Task<long?> GetLengthAsync(string path, CancellationToken ct = default)
    {
        path = CheckPath(path);
        string operation = $"HEAD /{path}";
        return _remote.RetryAsync(operation, async c =>
        {
            using var response = await _remote.SendAsync(() => new HttpRequestMessage(HttpMethod.Head, path), c).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound) return (long?)null;
            await _remote.EnsureStatusAsync(response, operation, c, HttpStatusCode.OK).ConfigureAwait(false);
            return response.Content.Headers.ContentLength ?? 0;
        }, ct);
    }

    /// <summary>PUT <paramref name="length"/> bytes from <paramref name="content"/> to <paramref name="path"/> (retries rewind a seekable stream).</summary>
    public Task PutFileAsync(string path, Stream content, long length, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        path = CheckPath(path);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        string operation = $"PUT /{path} ({length:N0} bytes)";
        long start = content.CanSeek ? content.Position : -1;
        int tries = 0;
        return _remote.RetryAsync(operation, async c =>
        {
            if (tries++ > 0 && start < 0)
                throw new RemoteStorageException($"{_remote.Name}: {operation} failed and cannot be retried because the source stream cannot seek (pass a FileStream)");
            long sent = 0;
            Action<long> onBytes = n => { sent += n; progress?.Report(sent); };
            using var response = await _remote.SendAsync(() =>
            {
                if (start >= 0) { content.Position = start; sent = 0; }
                return new HttpRequestMessage(HttpMethod.Put, path) { Content = new StreamSliceContent(content, length, _remote.Options.BufferSize, onBytes) };
            }, c).ConfigureAwait(false);
            await _remote.EnsureStatusAsync(response, operation, c, HttpStatusCode.Created, HttpStatusCode.NoContent, HttpStatusCode.OK).ConfigureAwait(false);
            return true;
        }, ct);
    }

    /// <summary>
    /// GET <paramref name="path"/> into <paramref name="destinationPath"/> through a ".partial"
    /// file, resuming with Range, verifying <paramref name="expectedDigest"/>.
    /// </summary>
    public Task<long> GetFileAsync(string path, string expectedDigest, string destinationPath, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        path = CheckPath(path);
        Sha256Digest.Check(expectedDigest, nameof(expectedDigest));
        string operation = $"GET /{path}";
        return _remote.RetryAsync(operation, c => ResumableDownload.RunAsync(_remote, operation,
            (offset, c2) => _remote.SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
                return request;
            }, c2),
            expectedDigest, destinationPath, progress, c), ct);
    }

    /// <summary>GET a small file into memory (manifests); null when absent.</summary>
    public Task<byte[]?> GetBytesAsync(string path, CancellationToken ct = default)
    {
        path = CheckPath(path);
        string operation = $"GET /{path}";
        return _remote.RetryAsync(operation, async c =>
        {
            using var response = await _remote.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), c).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            await _remote.EnsureStatusAsync(response, operation, c, HttpStatusCode.OK).ConfigureAwait(false);
            return await response.Content.ReadAsByteArrayAsync(c).ConfigureAwait(false);
        }, ct);
    }

    /// <summary>DELETE; true when a file was deleted, false when there was none.</summary>
    public Task<bool> DeleteAsync(string path, CancellationToken ct = default)
    {
        path = CheckPath(path);
        string operation = $"DELETE /{path}";
        return _remote.RetryAsync(operation, async c =>
        {
            using var response = await _remote.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, path), c).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound) return false;
            await _remote.EnsureStatusAsync(response, operation, c, HttpStatusCode.OK, HttpStatusCode.NoContent, HttpStatusCode.Accepted).ConfigureAwait(false);
            return true;
        }, ct);
    }

    // ---- the llcuda layout ----

    public async Task<bool> BlobExistsAsync(string digest, CancellationToken ct = default) =>
        await GetLengthAsync(BlobPath(digest), ct).ConfigureAwait(false) is not null;

    /// <summary>Uploads a blob unless one of the same length is already there; returns false when skipped.</summary>
    public async Task<bool> PushBlobAsync(string digest, Stream content, long length, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        string path = BlobPath(digest);
        // A plain file server does not verify digests, so a file of another length (an
        // interrupted upload on a server without atomic PUT) is overwritten, not trusted.
        if (await GetLengthAsync(path, ct).ConfigureAwait(false) == length)
        {
            progress?.Report(length);
            return false;
        }
        await PutFileAsync(path, content, length, progress, ct).ConfigureAwait(false);
        return true;
    }

    public Task<long> PullBlobAsync(string digest, string destinationPath, IProgress<long>? progress = null, CancellationToken ct = default) =>
        GetFileAsync(BlobPath(digest), digest, destinationPath, progress, ct);

    /// <summary>Writes the manifest of name:tag; returns its digest.</summary>
    public async Task<string> PutManifestAsync(string name, string tag, ReadOnlyMemory<byte> bytes, CancellationToken ct = default)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        await PutFileAsync(ManifestPath(name, tag), stream, bytes.Length, null, ct).ConfigureAwait(false);
        return Sha256Digest.Of(bytes.Span);
    }

    /// <summary>The manifest of name:tag and its digest, or null when there is none.</summary>
    public async Task<(byte[] Bytes, string Digest)?> GetManifestAsync(string name, string tag, CancellationToken ct = default) =>
        await GetBytesAsync(ManifestPath(name, tag), ct).ConfigureAwait(false) is { } bytes ? (bytes, Sha256Digest.Of(bytes)) : null;

    public Task<bool> DeleteManifestAsync(string name, string tag, CancellationToken ct = default) =>
        DeleteAsync(ManifestPath(name, tag), ct);

    static string CheckPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string p = path.TrimStart('/');
        foreach (var part in p.Split('/'))
            if (part is "" or "." or ".." || part.Contains('\\') || part.Contains('?') || part.Contains('#'))
                throw new ArgumentException($"filer path '{path}' has an empty, '.' or '..' component or a '\\', '?' or '#': use a plain relative path such as llcuda/blobs/sha256/<hex>", nameof(path));
        return p;
    }

    public void Dispose() => _remote.Dispose();
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace LlCuda.Storage.Remotes;

/// <summary>
/// The HTTP plumbing both remote clients share: one HttpClient, authentication (Basic, or a
/// bearer token fetched from the challenge's realm, cached and renewed on the next 401), and
/// bounded retries with exponential backoff.
///
/// Retry rule: 5xx, 429 and dropped connections (HttpRequestException, IOException) are retried
/// up to <see cref="RemoteOptions.MaxAttempts"/> tries in all; any other 4xx fails at once,
/// because asking again cannot change the answer. A retry reruns the whole operation (for an
/// upload: a new upload session; for a download: a resume from the partial file).
/// </summary>
internal sealed class RemoteHttp : IDisposable
{
    readonly HttpClient _http;
    readonly RemoteCredentials? _credentials;
    readonly RemoteOptions _options;
    // The Authorization header that last worked (Basic or Bearer), sent up front so that each
    // request does not pay a 401 round trip. Replaced on the next 401.
    volatile AuthenticationHeaderValue? _authorization;

    public RemoteHttp(Uri baseUri, string remoteKind, RemoteCredentials? credentials, RemoteOptions? options, HttpMessageHandler? handler)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        if (!baseUri.IsAbsoluteUri || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"{remoteKind} URL '{baseUri}' must be an absolute http:// or https:// URL (e.g. http://127.0.0.1:5000)", nameof(baseUri));
        _options = options ?? new RemoteOptions();
        _options.Validate();
        _credentials = credentials;
        BaseUri = new Uri(baseUri.GetLeftPart(UriPartial.Authority) + "/");
        Name = $"{remoteKind} {BaseUri.GetLeftPart(UriPartial.Authority)}";
        handler ??= new SocketsHttpHandler
        {
            ConnectTimeout = _options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        // No overall timeout: a 20 GB blob over a slow link is legitimate. Callers bound
        // transfers with their CancellationToken; ConnectTimeout bounds unreachable hosts.
        _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = BaseUri, Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri BaseUri { get; }

    /// <summary>"OCI registry http://127.0.0.1:5000", used in every error message.</summary>
    public string Name { get; }

    public RemoteOptions Options => _options;

    /// <summary>
    /// Sends one request built by <paramref name="create"/> (called again for the auth retry),
    /// answering at most one 401 challenge. Does not retry failures: see <see cref="RetryAsync{T}"/>.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, CancellationToken ct,
        HttpCompletionOption completion = HttpCompletionOption.ResponseHeadersRead)
    {
        var request = create();
        var sentAuth = _authorization;
        if (sentAuth is not null && request.Headers.Authorization is null) request.Headers.Authorization = sentAuth;
        var response = await _http.SendAsync(request, completion, ct).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;

        var fresh = await AnswerChallengeAsync(response, sentAuth, ct).ConfigureAwait(false);
        if (fresh is null) return response;
        response.Dispose();
        request = create();
        request.Headers.Authorization = fresh;
        return await _http.SendAsync(request, completion, ct).ConfigureAwait(false);
    }

    /// <summary>The header to retry with after a 401, or null when retrying cannot help.</summary>
    async Task<AuthenticationHeaderValue?> AnswerChallengeAsync(HttpResponseMessage response, AuthenticationHeaderValue? sent, CancellationToken ct)
    {
        foreach (var challenge in response.Headers.WwwAuthenticate)
        {
            if (challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)
                && BearerChallenge.Parse(challenge.Parameter) is { } bearer)
            {
                string token = await FetchTokenAsync(bearer, ct).ConfigureAwait(false);
                return _authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && _credentials is not null)
            {
                // Basic credentials that were already sent and refused will be refused again.
                if (sent?.Scheme == "Basic") return null;
                return _authorization = new AuthenticationHeaderValue("Basic", _credentials.BasicHeaderValue);
            }
        }
        return null;
    }

    async Task<string> FetchTokenAsync(BearerChallenge challenge, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, challenge.TokenUri());
        if (_credentials is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", _credentials.BasicHeaderValue);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new RemoteStorageException(
                $"{Name}: the token service {challenge.Realm} answered {(int)response.StatusCode} {response.ReasonPhrase} for scope '{challenge.Scope}' "
                + (_credentials is null ? "(no credentials were given: pass a user name and password or token)" : $"(check the credentials of user '{_credentials.Username}' and that it may access this repository)"),
                (int)response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var json = await JsonDocument.ParseAsync(body, cancellationToken: ct).ConfigureAwait(false);
        // Docker's token spec names it "token"; OAuth2-style services name it "access_token".
        foreach (var name in (ReadOnlySpan<string>)["token", "access_token"])
            if (json.RootElement.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } token)
                return token;
        throw new RemoteStorageException($"{Name}: the token service {challenge.Realm} answered without a 'token' or 'access_token' field (is the realm URL right?)");
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> up to MaxAttempts times while it fails transiently
    /// (<see cref="TransientException"/>, HttpRequestException, IOException), waiting
    /// InitialBackoff, 2x, 4x... between tries. Then throws one error naming the remote, the
    /// operation and what to do.
    /// </summary>
    public async Task<T> RetryAsync<T>(string operation, Func<CancellationToken, Task<T>> attempt, CancellationToken ct)
    {
        Exception? last = null;
        for (int i = 0; i < _options.MaxAttempts; i++)
        {
            if (i > 0)
                await Task.Delay(_options.InitialBackoff * (1 << Math.Min(i - 1, 10)), ct).ConfigureAwait(false);
            try
            {
                return await attempt(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e, ct))
            {
                last = e;
            }
        }
        int? status = (last as TransientException)?.StatusCode;
        throw new RemoteStorageException(
            $"{Name}: {operation} failed after {_options.MaxAttempts} tries: {Describe(last!)} "
            + "(is the server up and reachable, with free disk space? check its log and run the command again; completed blobs are skipped)",
            status, last);
    }

    static bool IsTransient(Exception e, CancellationToken ct) => !ct.IsCancellationRequested && e switch
    {
        TransientException => true,
        HttpRequestException h => h.StatusCode is null || (int)h.StatusCode >= 500,
        IOException => true,
        // HttpClient reports a connection reset while reading the body this way on some paths.
        TaskCanceledException { InnerException: IOException or TimeoutException } => true,
        _ => false,
    };

    static string Describe(Exception e) => e switch
    {
        TransientException t => t.Message,
        HttpRequestException h => $"connection failed ({h.Message})",
        IOException io => $"connection dropped ({io.Message})",
        _ => e.Message,
    };

    /// <summary>
    /// Returns when <paramref name="response"/> has one of the <paramref name="expected"/>
    /// statuses; throws <see cref="TransientException"/> for 5xx/429 (retried) and
    /// <see cref="RemoteStorageException"/> for anything else, with the server's error text.
    /// </summary>
    public async Task EnsureStatusAsync(HttpResponseMessage response, string operation, CancellationToken ct, params HttpStatusCode[] expected)
    {
        if (Array.IndexOf(expected, response.StatusCode) >= 0) return;
        int code = (int)response.StatusCode;
        string detail = await ErrorDetailAsync(response, ct).ConfigureAwait(false);
        string status = $"{code} {response.ReasonPhrase}{detail}";
        if (code >= 500 || code == 429)
            throw new TransientException($"{operation}: {status}", code);
        string hint = code switch
        {
            401 => _credentials is null ? "the remote needs credentials: pass a user name and password or token"
                                        : $"the remote refused user '{_credentials.Username}': check the password or token",
            403 => "the credentials are valid but may not do this: ask for push/pull rights on the repository",
            404 => "check the repository name, tag or digest",
            405 => "the remote does not allow this method (a registry with deletes disabled, or a read-only mirror?)",
            413 => "the remote refuses bodies this large: raise its upload limit (client_max_body_size for nginx)",
            _ => "check the request against the remote's documentation",
        };
        throw new RemoteStorageException($"{Name}: {operation} was refused: {status} ({hint})", code);
    }

    /// <summary>": CODE message" from an OCI error body ({"errors":[{"code","message"}]}), or a short plain-text body.</summary>
    static async Task<string> ErrorDetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (bytes.Length == 0) return "";
            if (bytes[0] == (byte)'{')
            {
                using var json = JsonDocument.Parse(bytes);
                if (json.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
                {
                    var parts = new List<string>();
                    foreach (var e in errors.EnumerateArray())
                    {
                        string code = e.TryGetProperty("code", out var c) ? c.ToString() : "";
                        string message = e.TryGetProperty("message", out var m) ? m.ToString() : "";
                        parts.Add($"{code} {message}".Trim());
                    }
                    if (parts.Count > 0) return ": " + string.Join("; ", parts);
                }
            }
            string text = System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 200)).ReplaceLineEndings(" ").Trim();
            return text.Length == 0 || text.StartsWith('<') ? "" : ": " + text;
        }
        catch (Exception e) when (e is JsonException or IOException or HttpRequestException)
        {
            return "";
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>A failure worth retrying: a 5xx or 429 answer. Never escapes <see cref="RemoteHttp.RetryAsync{T}"/>.</summary>
internal sealed class TransientException(string message, int statusCode) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

namespace LlCuda.Storage.Remotes;

/// <summary>
/// A remote (OCI registry or HTTP filer) refused or failed an operation. The message names the
/// remote, the operation and what to do; <see cref="StatusCode"/> is the last HTTP status seen
/// (null when the connection itself failed).
/// </summary>
public sealed class RemoteStorageException : Exception
{
    public RemoteStorageException(string message, int? statusCode = null, Exception? inner = null)
        : base(message, inner) => StatusCode = statusCode;

    /// <summary>The last HTTP status code, or null for connection failures and local checks.</summary>
    public int? StatusCode { get; }
}

namespace LlCuda.Storage;

/// <summary>What kind of store failure happened: the CLI maps each to its own exit code.</summary>
public enum StoreFailure
{
    /// <summary>A reference or digest that does not parse (bad name, tag or hex).</summary>
    BadReference,
    /// <summary>The reference parses but nothing in the store has that name or digest.</summary>
    NotFound,
    /// <summary>Stored data does not match its digest or size, or a manifest is not ours.</summary>
    Corrupt,
    /// <summary>The store could not be changed (lock timeout, a concurrent gc).</summary>
    Busy,
}

/// <summary>A one-line error from the model store: what was wrong and what to do about it.</summary>
public sealed class StoreException : Exception
{
    public StoreException() { }
    public StoreException(string message) : base(message) { }
    public StoreException(string message, Exception inner) : base(message, inner) { }
    public StoreException(StoreFailure failure, string message) : base(message) => Failure = failure;

    public StoreFailure Failure { get; }
}

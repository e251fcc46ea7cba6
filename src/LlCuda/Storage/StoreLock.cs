namespace LlCuda.Storage;

/// <summary>
/// The store-wide lock held while tags change (put's commit, rm, pin, eviction, gc, last-use
/// updates). On Linux, .NET takes FileShare.None as an exclusive flock on the open file, so the
/// kernel drops it when the holder exits, even by kill -9: a crashed process never wedges the
/// store. Blob writes need no lock: each goes to its own temp file and the rename is atomic.
/// </summary>
public sealed class StoreLock : IDisposable
{
    // Long enough to outlast a gc over a large store; a holder that takes longer is stuck.
    static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    readonly FileStream _file;

    StoreLock(FileStream file) => _file = file;

    public static StoreLock Acquire(StoreLayout layout, TimeSpan? timeout = null)
    {
        Directory.CreateDirectory(layout.Root);
        var limit = timeout ?? DefaultTimeout;
        return AcquireFile(layout.LockFile, limit,
            e => $"{layout.LockFile}: another llcuda process has held the store lock for over {limit.TotalSeconds:F0} s ({e.Message}); try again when it finishes");
    }

    /// <summary>
    /// An exclusive lock on any lock file (e.g. one blob's download, so two processes pulling
    /// the same model make one download: the second waits, then finds the blob in place).
    /// </summary>
    public static StoreLock AcquireFile(string lockPath, TimeSpan timeout, Func<IOException, string> timedOut)
    {
        ArgumentNullException.ThrowIfNull(timedOut);
        var deadline = DateTime.UtcNow + timeout;
        int waitMs = 1;
        while (true)
        {
            try
            {
                return new StoreLock(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another process holds it; back off up to 50 ms between tries (flock has no
                // blocking wait with a timeout in .NET).
                Thread.Sleep(waitMs);
                waitMs = Math.Min(50, waitMs * 2);
            }
            catch (IOException e)
            {
                throw new StoreException(StoreFailure.Busy, timedOut(e));
            }
        }
    }

    public void Dispose() => _file.Dispose();
}

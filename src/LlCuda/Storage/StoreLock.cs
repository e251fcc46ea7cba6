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
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        int waitMs = 1;
        while (true)
        {
            try
            {
                return new StoreLock(new FileStream(layout.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
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
                throw new StoreException(StoreFailure.Busy,
                    $"{layout.LockFile}: another llcuda process has held the store lock for over {(timeout ?? DefaultTimeout).TotalSeconds:F0} s ({e.Message}); try again when it finishes");
            }
        }
    }

    public void Dispose() => _file.Dispose();
}

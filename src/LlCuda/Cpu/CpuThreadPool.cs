using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace LlCuda.Cpu;

/// <summary>
/// A unit of parallel work: <see cref="Execute"/> runs once for every chunk index in
/// [0, chunkCount), on whichever thread claims it. Implementations are unmanaged structs (they
/// hold pointers, not arrays) so the pool can pass them to its threads without allocating.
/// </summary>
public interface IChunkJob
{
    /// <param name="chunk">The chunk to do, 0 .. chunkCount - 1.</param>
    /// <param name="worker">The thread doing it, 0 .. Threads - 1 (0 is the calling thread); for per-thread scratch.</param>
    void Execute(int chunk, int worker);
}

/// <summary>
/// A persistent pool of worker threads (Threads - 1 of them; the calling thread is the last
/// worker), created once per engine. <see cref="Run{TJob}"/> hands out chunk indices through one
/// atomic counter, so a thread that the OS delays simply takes fewer chunks; the caller returns
/// when every chunk is done. Not reentrant: one Run at a time, from one thread at a time.
/// </summary>
/// <remarks>
/// Decode calls Run ~150 times per token, ~10 us of work each at 2 threads, so waking a blocked
/// thread (a futex round trip, 10-50 us on a loaded machine) would cost as much as the work.
/// Idle workers therefore spin for <see cref="SpinTime"/> after each job before they block,
/// as llama.cpp's threadpool polls; a steady decode loop never sleeps.
/// </remarks>
public sealed unsafe class CpuThreadPool : IDisposable
{
    /// <summary>How long an idle worker polls for the next job before it blocks.</summary>
    static readonly long SpinTime = Stopwatch.Frequency / 500; // 2 ms

    readonly Thread[] _threads;
    readonly object _sleepLock = new();
    int _sleepers;
    volatile bool _stopping;
    bool _running;

    // The current job. The ticket packs (generation << 32) | next chunk: a worker claims a chunk
    // with one compare-exchange that also proves the job has not been replaced since it read
    // the fields below, because the caller posts a new job only after every chunk of the old
    // one is done, and a claimed chunk is not done.
    long _ticket;
    delegate*<void*, int, int, void> _body;
    void* _state;
    volatile int _chunkCount;
    int _done;

    /// <param name="threads">Total threads doing work, the caller included (1 = no worker threads).</param>
    /// <exception cref="ArgumentOutOfRangeException">threads is less than 1 or more than 1024.</exception>
    public CpuThreadPool(int threads)
    {
        if (threads < 1 || threads > 1024)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "CpuThreadPool: threads must be 1..1024 (use Environment.ProcessorCount for all cores)");
        Threads = threads;
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int worker = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(worker))
            {
                IsBackground = true,
                Name = $"llcuda-cpu-{worker}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>Threads doing work, the caller included.</summary>
    public int Threads { get; }

    /// <summary>
    /// Runs <paramref name="job"/>.Execute(chunk, worker) for every chunk in [0, chunkCount) on the
    /// pool's threads and the calling thread; returns when all are done. An exception in a chunk
    /// is not caught: kernels must not throw.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called while another Run is in progress, or after Dispose.</exception>
    public void Run<TJob>(in TJob job, int chunkCount) where TJob : unmanaged, IChunkJob
    {
        if (chunkCount <= 0) return;
        TJob local = job; // lives in this frame until every chunk is done
        if (_threads.Length == 0 || chunkCount == 1)
        {
            for (int c = 0; c < chunkCount; c++) local.Execute(c, 0);
            return;
        }
        if (_running || _stopping) ThrowBusy();
        _running = true;
        try
        {
            // Close the previous job before touching its fields: a worker that read the old
            // ticket could otherwise pass its bounds check against the new chunk count and claim
            // an old ticket value with the new body, running a chunk before the job opens and
            // again after (seen as a chunk run twice). The closed generation's chunk index is
            // past any count, and the job opens under the next generation.
            long generation = (Volatile.Read(ref _ticket) >> 32) + 1;
            Interlocked.Exchange(ref _ticket, (generation << 32) | int.MaxValue);
            _body = &Invoke<TJob>;
            _state = &local;
            _chunkCount = chunkCount;
            _done = 0;
            Interlocked.Exchange(ref _ticket, (generation + 1) << 32); // publishes the fields above
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_sleepLock) Monitor.PulseAll(_sleepLock);

            WorkOn(0);
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) < chunkCount) spin.SpinOnce(sleep1Threshold: -1);
        }
        finally
        {
            _running = false;
        }
    }

    static void Invoke<TJob>(void* state, int chunk, int worker) where TJob : unmanaged, IChunkJob =>
        ((TJob*)state)->Execute(chunk, worker);

    /// <summary>Claims and runs chunks of the current job until none are left.</summary>
    void WorkOn(int worker)
    {
        while (true)
        {
            long t = Volatile.Read(ref _ticket);
            var body = _body;
            void* state = _state;
            int count = _chunkCount;
            int chunk = (int)t;
            if (chunk >= count) return;
            if (Interlocked.CompareExchange(ref _ticket, t + 1, t) != t) continue;
            body(state, chunk, worker);
            Interlocked.Increment(ref _done);
        }
    }

    void WorkerLoop(int worker)
    {
        long seenGeneration = 0;
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while ((Volatile.Read(ref _ticket) >> 32) == seenGeneration && !_stopping)
            {
                if (Stopwatch.GetTimestamp() - start < SpinTime)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                lock (_sleepLock)
                {
                    Interlocked.Increment(ref _sleepers);
                    // Re-checked under the lock after announcing ourselves: Run reads _sleepers
                    // after publishing the ticket, so either it sees us and pulses, or we see
                    // its ticket here.
                    while ((Volatile.Read(ref _ticket) >> 32) == seenGeneration && !_stopping)
                        Monitor.Wait(_sleepLock);
                    Interlocked.Decrement(ref _sleepers);
                }
            }
            if (_stopping) return;
            seenGeneration = Volatile.Read(ref _ticket) >> 32;
            WorkOn(worker);
        }
    }

    /// <summary>Stops the worker threads (after the job in progress, if any).</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        lock (_sleepLock) Monitor.PulseAll(_sleepLock);
        foreach (var t in _threads) t.Join();
    }

    [DoesNotReturn]
    void ThrowBusy() => throw new InvalidOperationException(_stopping
        ? "CpuThreadPool: used after Dispose"
        : "CpuThreadPool.Run: another Run is in progress (the pool is not reentrant; give each engine thread its own pool)");
}

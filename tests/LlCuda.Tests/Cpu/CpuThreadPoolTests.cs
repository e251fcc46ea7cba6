using LlCuda.Cpu;

namespace LlCuda.Tests.Cpu;

public class CpuThreadPoolTests
{
    unsafe struct CountJob : IChunkJob
    {
        public int* Counts;
        public int* Workers;
        public int Threads;

        public readonly void Execute(int chunk, int worker)
        {
            Interlocked.Increment(ref Counts[chunk]);
            if (worker < 0 || worker >= Threads) Interlocked.Increment(ref Workers[0]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public unsafe void Run_ManyJobs_EveryChunkRunsExactlyOnce(int threads)
    {
        using var pool = new CpuThreadPool(threads);
        Assert.Equal(threads, pool.Threads);
        var counts = new int[257];
        var bad = new int[1];
        fixed (int* pc = counts)
        fixed (int* pb = bad)
        {
            var job = new CountJob { Counts = pc, Workers = pb, Threads = threads };
            for (int round = 0; round < 2000; round++) pool.Run(job, 1 + round % 257);
        }
        for (int c = 0; c < counts.Length; c++)
        {
            // chunk c runs in every round whose chunk count exceeds c
            int expected = Enumerable.Range(0, 2000).Count(r => 1 + r % 257 > c);
            Assert.True(counts[c] == expected, $"chunk {c}: ran {counts[c]} times, expected {expected}");
        }
        Assert.Equal(0, bad[0]);
    }

    [Fact]
    public unsafe void Run_AfterIdleSleep_StillCompletes()
    {
        using var pool = new CpuThreadPool(2);
        var counts = new int[8];
        var bad = new int[1];
        fixed (int* pc = counts)
        fixed (int* pb = bad)
        {
            var job = new CountJob { Counts = pc, Workers = pb, Threads = 2 };
            pool.Run(job, 8);
            Thread.Sleep(50); // workers stop spinning after 2 ms and block
            pool.Run(job, 8);
        }
        Assert.All(counts, c => Assert.Equal(2, c));
    }

    [Fact]
    public void Constructor_ZeroThreads_ThrowsWithRange()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CpuThreadPool(0));
        Assert.Contains("1..1024", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public unsafe void Run_AfterDispose_Throws()
    {
        var pool = new CpuThreadPool(2);
        pool.Dispose();
        var job = new CountJob();
        Assert.Throws<InvalidOperationException>(() => pool.Run(job, 4));
    }
}

using LlCuda.Cuda;
using LlCuda.Cuda.SelfTest;
using LlCuda.Tests.Models;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cuda;

/// <summary>Tests that need an NVIDIA GPU (they skip elsewhere); they run on the GPU host.</summary>
public class CudaDeviceTests
{
    const int N = 100_003;   // not a multiple of the block size: the last block is partial

    [CudaFact]
    public void Device_ReportsAPlausibleGpu()
    {
        using var context = CudaContext.Open(0);
        var d = context.Device;
        Assert.False(string.IsNullOrWhiteSpace(d.Name));
        Assert.InRange(d.ComputeCapability.Major, 5, 20);
        Assert.True(d.MultiprocessorCount > 0);
        Assert.True(d.TotalMemoryBytes > 1L << 30);
        var (free, total) = context.GetMemoryInfo();
        Assert.InRange(free, 1, total);
    }

    [CudaFact]
    public void DeviceBuffer_CopyRoundTrip_ThroughPageableAndPinnedMemory()
    {
        using var context = CudaContext.Open(0);
        using var stream = CudaStream.Create(context);
        var data = Enumerable.Range(0, N).Select(i => i * 3 + 7).ToArray();
        using var a = DeviceBuffer.Allocate(context, N * sizeof(int));
        using var b = DeviceBuffer.Allocate(context, N * sizeof(int));
        using var pinned = PinnedHostBuffer.Allocate(context, N * sizeof(int));
        a.CopyFromHost<int>(data, stream);
        b.CopyFrom(a, a.ByteLength, stream);
        b.CopyToHost(pinned, b.ByteLength, stream);
        stream.Synchronize();
        Assert.Equal(data, pinned.AsSpan<int>().ToArray());

        pinned.AsSpan<int>().Fill(-5);
        a.CopyFromHost(pinned, pinned.ByteLength, stream);
        var back = new int[N];
        a.CopyToHost<int>(back, stream);
        stream.Synchronize();
        Assert.All(back, x => Assert.Equal(-5, x));
    }

    [CudaFact]
    public void DeviceBuffer_LargerThanFreeMemory_IsRefusedWithTheFreeAmount()
    {
        using var context = CudaContext.Open(0);
        var (free, _) = context.GetMemoryInfo();
        var e = Assert.Throws<CudaException>(() => DeviceBuffer.Allocate(context, free + (1L << 30), "test"));
        Assert.Contains("is free", e.Message, StringComparison.Ordinal);
        Assert.Contains(context.Device.Name, e.Message, StringComparison.Ordinal);
    }

    [CudaFact]
    public void VectorAdd_Launch_GivesExactSums()
    {
        using var context = CudaContext.Open(0);
        using var cache = new ScratchDirectory();
        var compiler = new KernelCompiler(context, cache.Path);
        using var module = compiler.Load("vector_add.cu");
        var kernel = module.GetKernel("vector_add");
        using var stream = CudaStream.Create(context);
        var (a, b, da, db, dc) = Inputs(context, stream);
        using (da) using (db) using (dc)
        {
            kernel.Launch(stream, (uint)((N + 255) / 256), 256u, 0, da, db, dc, (ulong)N);
            var c = new float[N];
            dc.CopyToHost<float>(c, stream);
            stream.Synchronize();
            for (int i = 0; i < N; i++) Assert.Equal(a[i] + b[i], c[i]);
        }
    }

    [CudaFact]
    public void KernelCompiler_SecondCompile_ComesFromTheCache()
    {
        using var context = CudaContext.Open(0);
        using var cache = new ScratchDirectory();
        var first = new KernelCompiler(context, cache.Path).Compile("copy.cu");
        var second = new KernelCompiler(context, cache.Path).Compile("copy.cu");
        Assert.False(first.CacheHit);
        Assert.True(second.CacheHit);
        Assert.Equal(first.Image, second.Image);
        Assert.Equal(first.CacheKey, second.CacheKey);
    }

    [CudaFact]
    public void EveryEmbeddedKernel_CompilesAndLoadsForThisGpu()
    {
        using var context = CudaContext.Open(0);
        using var cache = new ScratchDirectory();
        var compiler = new KernelCompiler(context, cache.Path);
        foreach (var name in KernelSources.Names)
        {
            using var module = compiler.Load(name);
            Assert.NotNull(module);
        }
    }

    [CudaFact]
    public void GetKernel_UnknownName_NamesTheKernelAndTheFile()
    {
        using var context = CudaContext.Open(0);
        using var cache = new ScratchDirectory();
        using var module = new KernelCompiler(context, cache.Path).Load("vector_add.cu");
        var e = Assert.Throws<CudaException>(() => module.GetKernel("no_such_kernel"));
        Assert.Contains("'no_such_kernel' in vector_add.cu", e.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA_ERROR_NOT_FOUND", e.Message, StringComparison.Ordinal);
    }

    [CudaFact]
    public void Graph_CapturedLaunches_ReplayAndUpdate()
    {
        using var context = CudaContext.Open(0);
        using var cache = new ScratchDirectory();
        using var module = new KernelCompiler(context, cache.Path).Load("vector_add.cu");
        var kernel = module.GetKernel("vector_add");
        using var stream = CudaStream.Create(context);
        var (a, b, da, db, dc) = Inputs(context, stream);
        using (da) using (db) using (dc)
        using (var dd = DeviceBuffer.Allocate(context, N * sizeof(float)))
        {
            Dim3 grid = (uint)((N + 255) / 256);
            using var graph = CudaGraph.Capture(stream, s =>
            {
                kernel.Launch(s, grid, 256u, 0, da, db, dc, (ulong)N);   // c = a + b
                kernel.Launch(s, grid, 256u, 0, dc, db, dd, (ulong)N);   // d = c + b
            });
            var d = new float[N];
            for (int replay = 0; replay < 3; replay++)
            {
                dd.Fill(0, stream);
                graph.Launch(stream);
                dd.CopyToHost<float>(d, stream);
                stream.Synchronize();
                for (int i = 0; i < N; i++) Assert.Equal(a[i] + b[i] + b[i], d[i]);
            }

            // Same shape, new arguments: d = c + a instead.
            Assert.True(graph.TryUpdate(stream, s =>
            {
                kernel.Launch(s, grid, 256u, 0, da, db, dc, (ulong)N);
                kernel.Launch(s, grid, 256u, 0, dc, da, dd, (ulong)N);
            }));
            graph.Launch(stream);
            dd.CopyToHost<float>(d, stream);
            stream.Synchronize();
            for (int i = 0; i < N; i++) Assert.Equal(a[i] + b[i] + a[i], d[i]);
        }
    }

    [CudaFact]
    public void Events_TimeACopy()
    {
        using var context = CudaContext.Open(0);
        using var stream = CudaStream.Create(context);
        using var start = CudaEvent.Create(context);
        using var end = CudaEvent.Create(context);
        using var a = DeviceBuffer.Allocate(context, 64L << 20);
        using var b = DeviceBuffer.Allocate(context, 64L << 20);
        start.Record(stream);
        b.CopyFrom(a, a.ByteLength, stream);
        end.Record(stream);
        end.Synchronize();
        Assert.True(CudaEvent.ElapsedMilliseconds(start, end) > 0);
    }

    [CudaFact]
    public void Cublas_GemmFp16_MatchesTheHostProduct()
    {
        using var context = CudaContext.Open(0);
        using var stream = CudaStream.Create(context);
        using var blas = CublasHandle.Create(context);
        blas.SetStream(stream);
        blas.SetPedanticMath(true);
        const int m = 33, n = 17, k = 64;
        var rng = new Random(1234);
        // Small integers: exact in fp16 and in the fp32 accumulation, so the result is exact.
        var a = Enumerable.Range(0, m * k).Select(_ => (Half)rng.Next(-4, 5)).ToArray();   // m x k column-major
        var b = Enumerable.Range(0, k * n).Select(_ => (Half)rng.Next(-4, 5)).ToArray();   // k x n column-major
        using var da = DeviceBuffer.Allocate(context, a.Length * 2);
        using var db = DeviceBuffer.Allocate(context, b.Length * 2);
        using var dc = DeviceBuffer.Allocate(context, m * n * 4);
        da.CopyFromHost<Half>(a, stream);
        db.CopyFromHost<Half>(b, stream);
        blas.Gemm(false, false, m, n, k, da, m, db, k, dc, m, GemmElementType.Float16, GemmElementType.Float32);
        var c = new float[m * n];
        dc.CopyToHost<float>(c, stream);
        stream.Synchronize();
        for (int col = 0; col < n; col++)
        for (int row = 0; row < m; row++)
        {
            float expected = 0;
            for (int i = 0; i < k; i++) expected += (float)a[row + i * m] * (float)b[i + col * k];
            Assert.Equal(expected, c[row + col * m]);
        }
    }

    [CudaFact]
    public void SelfTest_EveryCheckPasses()
    {
        var results = CudaSelfTest.Run(new SelfTestOptions(BandwidthBytes: 256L << 20));
        Assert.Equal(CudaSelfTest.CheckNames, results.Select(r => r.Check));
        Assert.All(results, r => Assert.True(r.Status == SelfTestStatus.Pass, $"{r.Check}: {r.Detail}"));
        Assert.True(results.Single(r => r.Check == "bandwidth").Value > 0);
    }

    static (float[] A, float[] B, DeviceBuffer Da, DeviceBuffer Db, DeviceBuffer Dc) Inputs(CudaContext context, CudaStream stream)
    {
        var rng = new Random(42);
        var a = Enumerable.Range(0, N).Select(_ => (float)rng.Next(-1000, 1000)).ToArray();
        var b = Enumerable.Range(0, N).Select(_ => rng.Next(-1000, 1000) * 0.5f).ToArray();
        var da = DeviceBuffer.Allocate(context, N * sizeof(float));
        var db = DeviceBuffer.Allocate(context, N * sizeof(float));
        var dc = DeviceBuffer.Allocate(context, N * sizeof(float));
        da.CopyFromHost<float>(a, stream);
        db.CopyFromHost<float>(b, stream);
        dc.Fill(0xFF, stream);
        return (a, b, da, db, dc);
    }
}

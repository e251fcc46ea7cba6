namespace LlCuda.Cuda.SelfTest;

public static partial class CudaSelfTest
{
    const int VectorElements = 1 << 20;

    // a[i] = i, b[i] = i / 4: every sum 1.25 * i is exact in fp32 for i < 2^20 (it needs at
    // most 23 significant bits), so the check compares for equality.
    static (float[] A, float[] B) VectorInputs()
    {
        var a = new float[VectorElements];
        var b = new float[VectorElements];
        for (int i = 0; i < VectorElements; i++)
        {
            a[i] = i;
            b[i] = i * 0.25f;
        }
        return (a, b);
    }

    static void ExpectSums(ReadOnlySpan<float> actual, Func<int, float> expected, string what)
    {
        for (int i = 0; i < actual.Length; i++)
            if (actual[i] != expected(i))
                throw new SelfTestFailure($"{what}: element {i} is {actual[i]} but should be {expected(i)}");
    }

    static (string, (double, string)?) CheckLaunch(CudaContext context, KernelCompiler compiler)
    {
        var (a, b) = VectorInputs();
        const long bytes = VectorElements * sizeof(float);
        using var module = compiler.Load("vector_add.cu");
        var kernel = module.GetKernel("vector_add");
        using var stream = CudaStream.Create(context);
        using var da = DeviceBuffer.Allocate(context, bytes, "selftest input a");
        using var db = DeviceBuffer.Allocate(context, bytes, "selftest input b");
        using var dc = DeviceBuffer.Allocate(context, bytes, "selftest output c");
        da.CopyFromHost<float>(a, stream);
        db.CopyFromHost<float>(b, stream);
        dc.Fill(0xFF, stream);   // NaN everywhere: an element the kernel skips cannot pass
        kernel.Launch(stream, BlocksFor(VectorElements), 256u, 0, da, db, dc, (ulong)VectorElements);
        var c = new float[VectorElements];
        dc.CopyToHost<float>(c, stream);
        stream.Synchronize();
        ExpectSums(c, i => i * 1.25f, "vector_add");
        return ($"vector_add over {VectorElements:N0} elements ({BlocksFor(VectorElements).X} blocks of 256): every sum exact", null);
    }
}

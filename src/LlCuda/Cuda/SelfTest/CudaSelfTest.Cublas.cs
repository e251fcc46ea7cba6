namespace LlCuda.Cuda.SelfTest;

public static partial class CudaSelfTest
{
    const int GemmM = 96, GemmN = 80, GemmK = 128;

    // C[96 x 80] = A[96 x 128] * B[128 x 80] with fp16 inputs and fp32 output, column-major,
    // pedantic math. Entries are small integers (-4..4): exact in fp16, and every partial sum
    // (at most 128 * 16) is exact in fp32, so the product must equal the host's exactly
    // whatever order the GPU sums in.
    static (string, (double, string)?) CheckCublas(CudaContext context)
    {
        var rng = new Random(20261125);
        var a = new Half[GemmM * GemmK];
        var b = new Half[GemmK * GemmN];
        for (int i = 0; i < a.Length; i++) a[i] = (Half)rng.Next(-4, 5);
        for (int i = 0; i < b.Length; i++) b[i] = (Half)rng.Next(-4, 5);

        using var stream = CudaStream.Create(context);
        using var blas = CublasHandle.Create(context);
        blas.SetStream(stream);
        blas.SetPedanticMath(true);
        using var da = DeviceBuffer.Allocate(context, a.Length * 2L, "selftest gemm A");
        using var db = DeviceBuffer.Allocate(context, b.Length * 2L, "selftest gemm B");
        using var dc = DeviceBuffer.Allocate(context, GemmM * GemmN * 4L, "selftest gemm C");
        da.CopyFromHost<Half>(a, stream);
        db.CopyFromHost<Half>(b, stream);
        dc.Fill(0xFF, stream);
        blas.Gemm(false, false, GemmM, GemmN, GemmK, da, GemmM, db, GemmK, dc, GemmM, GemmElementType.Float16, GemmElementType.Float32);
        var c = new float[GemmM * GemmN];
        dc.CopyToHost<float>(c, stream);
        stream.Synchronize();

        for (int col = 0; col < GemmN; col++)
        for (int row = 0; row < GemmM; row++)
        {
            float expected = 0;
            for (int i = 0; i < GemmK; i++) expected += (float)a[row + i * GemmM] * (float)b[i + col * GemmK];
            if (c[row + col * GemmM] != expected)
                throw new SelfTestFailure($"cublasGemmEx: C[{row}, {col}] is {c[row + col * GemmM]} but should be {expected}");
        }
        string version = CublasHandle.TryGetVersion(out _) ?? "unknown version";
        return ($"cuBLAS {version}: fp16 GEMM {GemmM}x{GemmN}x{GemmK} with fp32 accumulation, every element exact", null);
    }
}

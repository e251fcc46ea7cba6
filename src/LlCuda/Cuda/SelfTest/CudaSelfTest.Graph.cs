namespace LlCuda.Cuda.SelfTest;

public static partial class CudaSelfTest
{
    const int GraphReplays = 3;

    // Captures c = a + b; d = c + b (two dependent launches) and replays the graph three times,
    // clearing d before each replay so every replay has to write it again.
    static (string, (double, string)?) CheckGraph(CudaContext context, KernelCompiler compiler)
    {
        var (a, b) = VectorInputs();
        const long bytes = VectorElements * sizeof(float);
        using var module = compiler.Load("vector_add.cu");
        var kernel = module.GetKernel("vector_add");
        using var stream = CudaStream.Create(context);
        using var da = DeviceBuffer.Allocate(context, bytes, "selftest input a");
        using var db = DeviceBuffer.Allocate(context, bytes, "selftest input b");
        using var dc = DeviceBuffer.Allocate(context, bytes, "selftest intermediate c");
        using var dd = DeviceBuffer.Allocate(context, bytes, "selftest output d");
        da.CopyFromHost<float>(a, stream);
        db.CopyFromHost<float>(b, stream);
        stream.Synchronize();

        Dim3 grid = BlocksFor(VectorElements);
        using var graph = CudaGraph.Capture(stream, s =>
        {
            kernel.Launch(s, grid, 256u, 0, da, db, dc, (ulong)VectorElements);
            kernel.Launch(s, grid, 256u, 0, dc, db, dd, (ulong)VectorElements);
        });
        var d = new float[VectorElements];
        for (int replay = 0; replay < GraphReplays; replay++)
        {
            dd.Fill(0xFF, stream);
            graph.Launch(stream);
            dd.CopyToHost<float>(d, stream);
            stream.Synchronize();
            ExpectSums(d, i => i * 1.5f, $"graph replay {replay + 1}");
        }
        return ($"2 vector_add launches captured, replayed {GraphReplays} times: every result exact", null);
    }
}

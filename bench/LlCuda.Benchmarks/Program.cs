using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/LlCuda.Benchmarks -- --filter '*'   (see docs/performance.md)
// dotnet run -c Release --project bench/LlCuda.Benchmarks -- cpu-quick [types] [ns] [path]   (fast side-by-side CPU kernel timing)
if (args.Length > 0 && args[0] == "cpu-quick")
{
    LlCuda.Benchmarks.Cpu.MatMulQuick.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

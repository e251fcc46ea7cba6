using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/LlCuda.Benchmarks -- --filter '*'   (see docs/performance.md)
// dotnet run -c Release --project bench/LlCuda.Benchmarks -- cpu-quick [types] [ns] [path]   (fast side-by-side CPU kernel timing)
if (args.Length > 0 && args[0] == "cpu-quick")
{
    LlCuda.Benchmarks.Cpu.MatMulQuick.Run(args[1..]);
    return;
}
// dotnet run -c Release --project bench/LlCuda.Benchmarks -- cpu-decode [type] [threads] [n] [outputType]   (matmuls of whole TinyLlama steps)
if (args.Length > 0 && args[0] == "cpu-decode")
{
    LlCuda.Benchmarks.Cpu.DecodeQuick.Run(args[1..]);
    return;
}
// dotnet run -c Release --project bench/LlCuda.Benchmarks -- cpu-engine [Q4_0|Q4_K_M] [pp] [tg] [threads] [rounds]   (ours vs llama.cpp end to end)
if (args.Length > 0 && args[0] == "cpu-engine")
{
    LlCuda.Benchmarks.Cpu.EngineQuick.Run(args[1..]);
    return;
}
// dotnet run -c Release --project bench/LlCuda.Benchmarks -- tokenize-quick [text-file]   (encode MB/s, wall and CPU time)
if (args.Length > 0 && args[0] == "tokenize-quick")
{
    LlCuda.Benchmarks.Tokenizers.TokenizeQuick.Run(args[1..]);
    return;
}
// dotnet run -c Release --project bench/LlCuda.Benchmarks -- registry-quick URL [size-MB] [dir] [rounds]   (push/pull MB/s; scripts/bench-registry.sh)
if (args.Length > 0 && args[0] == "registry-quick")
{
    LlCuda.Benchmarks.Storage.RegistryQuick.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

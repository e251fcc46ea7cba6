using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/LlCuda.Benchmarks -- --filter '*'   (see docs/performance.md)
// dotnet run -c Release --project bench/LlCuda.Benchmarks -- tokenize-quick [text-file]   (encode MB/s, wall and CPU time)
if (args.Length > 0 && args[0] == "tokenize-quick")
{
    LlCuda.Benchmarks.Tokenizers.TokenizeQuick.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

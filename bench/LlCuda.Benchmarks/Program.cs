using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/LlCuda.Benchmarks -- --filter '*'   (see docs/performance.md)
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

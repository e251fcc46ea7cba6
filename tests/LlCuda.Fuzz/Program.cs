using LlCuda.Fuzz;
using SharpFuzz;

// Usage (see docs/fuzzing.md):
//   LlCuda.Fuzz libfuzzer          run under libfuzzer-dotnet (instrument LlCuda.Core.dll with the sharpfuzz tool first)
//   LlCuda.Fuzz afl                run under afl-fuzz (out-of-process mode)
//   LlCuda.Fuzz replay FILE...     run files once (reproduce a crash found by a fuzzer)
//   LlCuda.Fuzz seeds DIR          write small valid GGUF files to start a corpus from
switch (args.FirstOrDefault())
{
    case "libfuzzer":
        Fuzzer.LibFuzzer.Run(span => GgufFuzzTarget.Run(span));
        return 0;
    case "afl":
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            GgufFuzzTarget.Run(ms.ToArray());
        });
        return 0;
    case "replay" when args.Length > 1:
        foreach (var path in args.Skip(1))
            Console.WriteLine($"{path}: {(GgufFuzzTarget.Run(File.ReadAllBytes(path)) ? "opened" : "rejected")}");
        return 0;
    case "seeds" when args.Length == 2:
        SeedCorpus.Write(args[1]);
        return 0;
    default:
        Console.Error.WriteLine("usage: LlCuda.Fuzz libfuzzer | afl | replay FILE... | seeds DIR");
        return 2;
}

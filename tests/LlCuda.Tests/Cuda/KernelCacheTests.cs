using LlCuda.Cuda;
using LlCuda.Tests.Models;

namespace LlCuda.Tests.Cuda;

public class KernelCacheTests
{
    const string Source = "extern \"C\" __global__ void k(float* x) { x[0] = 1.0f; }";
    static readonly string[] Options = ["--gpu-architecture=sm_90", "--std=c++17"];

    static string Key(string source = Source, string[]? options = null, string arch = "sm_90", string compiler = "nvrtc 13.0") =>
        KernelCache.Key(source, options ?? Options, arch, compiler);

    [Fact]
    public void Key_SameInputs_SameLowercaseSha256Hex()
    {
        string key = Key();
        Assert.Equal(key, Key());
        Assert.Matches("^[0-9a-f]{64}$", key);
    }

    [Fact]
    public void Key_ChangesWithSourceOptionsArchitectureAndCompiler()
    {
        string key = Key();
        Assert.NotEqual(key, Key(source: Source + " "));
        Assert.NotEqual(key, Key(options: ["--gpu-architecture=sm_90", "--std=c++20"]));
        Assert.NotEqual(key, Key(options: [.. Options, "--generate-line-info"]));
        Assert.NotEqual(key, Key(arch: "sm_89"));
        Assert.NotEqual(key, Key(compiler: "nvrtc 12.8"));
    }

    [Fact]
    public void Key_OptionBoundariesMatter()
    {
        // Length-prefixed parts: "a b" as one option is not "a", "b".
        Assert.NotEqual(Key(options: ["-Da -Db"]), Key(options: ["-Da", "-Db"]));
        Assert.NotEqual(Key(source: "ab", arch: "c"), Key(source: "a", arch: "bc"));
    }

    [Fact]
    public void GetOrCompile_SecondCall_HitsTheCacheWithoutCompiling()
    {
        using var dir = new ScratchDirectory();
        var cache = new KernelCache(dir.Path);
        int compiles = 0;
        byte[] Compile() { compiles++; return [1, 2, 3, 4, 5]; }

        byte[] first = cache.GetOrCompile(Key(), Compile, out bool hit1);
        byte[] second = new KernelCache(dir.Path).GetOrCompile(Key(), Compile, out bool hit2);
        Assert.False(hit1);
        Assert.True(hit2);
        Assert.Equal(1, compiles);
        Assert.Equal(first, second);
        Assert.Equal([Path.GetFileName(cache.PathFor(Key()))], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    public static TheoryData<string> Corruptions => ["empty", "truncated", "payload-flipped", "header-flipped", "garbage", "extra-byte"];

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void GetOrCompile_CorruptFile_IsIgnoredRecompiledAndRewritten(string corruption)
    {
        using var dir = new ScratchDirectory();
        var cache = new KernelCache(dir.Path);
        byte[] image = [.. Enumerable.Range(0, 200).Select(i => (byte)i)];
        Assert.True(cache.TryWrite(Key(), image));
        string path = cache.PathFor(Key());
        byte[] file = File.ReadAllBytes(path);
        byte[] damaged = corruption switch
        {
            "empty" => [],
            "truncated" => file[..^17],
            "payload-flipped" => Flip(file, file.Length - 1),
            "header-flipped" => Flip(file, 20),
            "garbage" => [.. Enumerable.Repeat((byte)0x42, file.Length)],
            "extra-byte" => [.. file, 0],
            _ => throw new ArgumentException(corruption),
        };
        File.WriteAllBytes(path, damaged);

        Assert.Null(cache.TryRead(Key()));
        int compiles = 0;
        byte[] result = cache.GetOrCompile(Key(), () => { compiles++; return image; }, out bool hit);
        Assert.False(hit);
        Assert.Equal(1, compiles);
        Assert.Equal(image, result);
        Assert.Equal(image, cache.TryRead(Key()));   // rewritten whole
    }

    static byte[] Flip(byte[] file, int at)
    {
        var copy = (byte[])file.Clone();
        copy[at] ^= 0x01;
        return copy;
    }

    [Fact]
    public void GetOrCompile_UnwritableFolder_StillReturnsTheCompiledImage()
    {
        using var dir = new ScratchDirectory();
        // A file where the cache folder should be: creating the folder fails with IOException.
        string blocked = dir.File("not-a-folder");
        File.WriteAllText(blocked, "x");
        var cache = new KernelCache(Path.Combine(blocked, "kernels"));
        byte[] result = cache.GetOrCompile(Key(), () => [9, 9], out bool hit);
        Assert.False(hit);
        Assert.Equal([9, 9], result);
        Assert.False(cache.TryWrite(Key(), [9, 9]));
    }

    [Fact]
    public void TryWrite_LeavesNoTemporaryFiles()
    {
        using var dir = new ScratchDirectory();
        var cache = new KernelCache(dir.Path);
        for (int i = 0; i < 3; i++) Assert.True(cache.TryWrite(Key(arch: $"sm_{80 + i}"), [(byte)i]));
        Assert.All(Directory.GetFiles(dir.Path), f => Assert.EndsWith(".cubin", f, StringComparison.Ordinal));
        Assert.Equal(3, Directory.GetFiles(dir.Path).Length);
    }

    [Fact]
    public void DefaultDirectory_PrefersLlcudaHomeThenXdgCacheThenHome()
    {
        Dictionary<string, string?> env = new() { ["LLCUDA_HOME"] = "/data/llcuda", ["XDG_CACHE_HOME"] = "/xdg", ["HOME"] = "/home/u" };
        Assert.Equal("/data/llcuda/cache/kernels", KernelCache.DefaultDirectory(n => env.GetValueOrDefault(n)));
        env["LLCUDA_HOME"] = null;
        Assert.Equal("/xdg/llcuda/kernels", KernelCache.DefaultDirectory(n => env.GetValueOrDefault(n)));
        env["XDG_CACHE_HOME"] = "";
        Assert.Equal("/home/u/.cache/llcuda/kernels", KernelCache.DefaultDirectory(n => env.GetValueOrDefault(n)));
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace LlCuda.Cuda;

/// <summary>
/// Compiled kernels on disk, so NVRTC (~0.2 s per file) runs once per source, options,
/// architecture and compiler version, not once per process. A file is named by
/// <see cref="Key"/> and holds a small header (magic, payload length, payload sha256) before
/// the image, so a truncated or corrupted file is detected, ignored and rewritten.
/// </summary>
/// <remarks>
/// Thread- and process-safe: files are written to a unique temporary name and renamed into
/// place (atomic on one file system), so a reader sees a whole file or none; two processes
/// compiling the same kernel both write identical content and the last rename wins. The cache
/// is an optimization only: if the folder cannot be created or written (read-only home), kernels
/// are compiled every time and nothing fails.
/// </remarks>
internal sealed class KernelCache
{
    static ReadOnlySpan<byte> Magic => "LLCUBIN1"u8;
    const int HeaderBytes = 8 + 8 + 32;   // magic, payload length (little-endian int64), sha256(payload)

    public KernelCache(string directory) => Directory = directory;

    /// <summary>The folder holding the files.</summary>
    public string Directory { get; }

    /// <summary>
    /// $LLCUDA_HOME/cache/kernels, else $XDG_CACHE_HOME/llcuda/kernels, else ~/.cache/llcuda/kernels.
    /// </summary>
    public static string DefaultDirectory(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment("LLCUDA_HOME") is { Length: > 0 } home) return Path.Combine(home, "cache", "kernels");
        if (environment("XDG_CACHE_HOME") is { Length: > 0 } xdg) return Path.Combine(xdg, "llcuda", "kernels");
        string user = environment("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(user, ".cache", "llcuda", "kernels");
    }

    /// <summary>
    /// The cache key: sha256 (lowercase hex) over the source, the options, the architecture and
    /// the compiler version, each length-prefixed so no two different inputs can run together
    /// into the same byte string.
    /// </summary>
    public static string Key(string source, IReadOnlyList<string> options, string architecture, string compilerVersion)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string part)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(part);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        Add("llcuda-kernel-cache-v1");
        Add(source);
        Add(options.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var option in options) Add(option);
        Add(architecture);
        Add(compilerVersion);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The file for <paramref name="key"/>.</summary>
    public string PathFor(string key) => Path.Combine(Directory, key + ".cubin");

    /// <summary>
    /// The cached image for <paramref name="key"/>, or else the result of <paramref name="compile"/>,
    /// which is then stored. <paramref name="hit"/> says which.
    /// </summary>
    public byte[] GetOrCompile(string key, Func<byte[]> compile, out bool hit)
    {
        if (TryRead(key) is { } cached)
        {
            hit = true;
            return cached;
        }
        hit = false;
        byte[] image = compile();
        TryWrite(key, image);
        return image;
    }

    /// <summary>The stored image, or null when the file is missing, short, or fails its checksum.</summary>
    public byte[]? TryRead(string key)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(PathFor(key));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (file.Length < HeaderBytes || !file.AsSpan(0, 8).SequenceEqual(Magic)) return null;
        long length = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(8, 8));
        if (length != file.Length - HeaderBytes) return null;
        var payload = file.AsSpan(HeaderBytes);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(payload, digest);
        return digest.SequenceEqual(file.AsSpan(16, 32)) ? payload.ToArray() : null;
    }

    /// <summary>Stores <paramref name="image"/> atomically; returns false (and leaves no temporary file) when the folder is not writable.</summary>
    public bool TryWrite(string key, ReadOnlySpan<byte> image)
    {
        string target = PathFor(key);
        string temporary = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var file = new byte[HeaderBytes + image.Length];
            Magic.CopyTo(file);
            BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(8, 8), image.Length);
            SHA256.HashData(image, file.AsSpan(16, 32));
            image.CopyTo(file.AsSpan(HeaderBytes));
            File.WriteAllBytes(temporary, file);
            File.Move(temporary, target, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temporary); }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException) { /* nothing more to do */ }
            return false;
        }
    }
}

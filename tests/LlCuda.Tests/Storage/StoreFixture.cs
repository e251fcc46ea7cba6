using LlCuda.Storage;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Storage;

/// <summary>A fresh store in a temp directory, and helpers to damage it the way disks and crashes do.</summary>
internal static class StoreFixture
{
    public static ModelStore NewStore(TimeProvider? clock = null) => new(new StoreLayout(Path.Combine(TestPaths.NewTempDir(), "home")), clock);

    /// <summary>Flips one bit of the byte at <paramref name="offset"/> of a file.</summary>
    public static void FlipByte(string path, long offset)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        fs.Position = offset;
        int b = fs.ReadByte();
        fs.Position = offset;
        fs.WriteByte((byte)(b ^ 0x01));
    }

    /// <summary>A copy of stories260K with <paramref name="extraBytes"/> of zeros after its data (still a valid GGUF).</summary>
    public static string PaddedStories(long extraBytes)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "padded.gguf");
        File.Copy(TestPaths.Stories260K, path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
        fs.SetLength(fs.Length + extraBytes);
        return path;
    }
}

/// <summary>A clock tests move by hand, so LRU order does not depend on timing.</summary>
internal sealed class ManualClock : TimeProvider
{
    DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}

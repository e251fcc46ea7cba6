using System.IO.MemoryMappedFiles;

namespace LlCuda.Interop;

/// <summary>
/// A read-only memory map of a whole file. Model weights are used straight from the page cache
/// through <see cref="Pointer"/> or <see cref="Read"/>: no copy, and the OS shares the pages
/// between processes that map the same model.
/// </summary>
internal sealed unsafe class MappedFile : ByteSource
{
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly byte* _pointer;
    readonly long _length;

    MappedFile(MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* pointer, long length)
    {
        _map = map;
        _view = view;
        _pointer = pointer;
        _length = length;
    }

    /// <summary>Maps <paramref name="path"/> read-only. An empty file maps to zero bytes.</summary>
    public static MappedFile Open(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        long length = stream.Length;
        // mmap of zero bytes is an error on Linux; an empty file simply has nothing to read.
        if (length == 0) return new MappedFile(null, null, null, 0);
        var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        p += view.PointerOffset;
        return new MappedFile(map, view, p, length);
    }

    public override long Length => _length;

    /// <summary>Address of byte 0; valid until Dispose.</summary>
    public byte* Pointer => _pointer;

    public override ReadOnlySpan<byte> Read(long offset, int count)
    {
        if ((ulong)offset > (ulong)_length || (ulong)count > (ulong)(_length - offset))
            throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, +{count}) lies outside the {_length}-byte file");
        return new ReadOnlySpan<byte>(_pointer + offset, count);
    }

    public override void Dispose()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        base.Dispose();
    }
}

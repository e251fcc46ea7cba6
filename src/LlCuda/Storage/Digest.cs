using System.Diagnostics.CodeAnalysis;

namespace LlCuda.Storage;

/// <summary>A content digest, "sha256:" + 64 lowercase hex digits (the only algorithm the store uses).</summary>
public readonly record struct Digest
{
    public const string Algorithm = "sha256";
    const int HexLength = 64;

    Digest(string hex) => Hex = hex;

    /// <summary>The 64 lowercase hex digits (the blob's file name).</summary>
    public string Hex { get; }

    public override string ToString() => $"{Algorithm}:{Hex}";

    /// <summary>Builds a digest from the 32 bytes of a SHA-256 hash.</summary>
    public static Digest FromHash(ReadOnlySpan<byte> sha256) => new(Convert.ToHexStringLower(sha256));

    /// <summary>True when <paramref name="text"/> starts like a digest ("sha256:" or any "algo:hex" shape).</summary>
    public static bool LooksLikeDigest(string text) => text.StartsWith(Algorithm + ":", StringComparison.Ordinal);

    public static bool TryParse(string? text, out Digest digest)
    {
        digest = default;
        if (text is null || !LooksLikeDigest(text)) return false;
        var hex = text.AsSpan(Algorithm.Length + 1);
        if (!IsLowerHex(hex)) return false;
        digest = new Digest(hex.ToString());
        return true;
    }

    /// <summary>Parses "sha256:HEX" or throws a one-line <see cref="StoreException"/> saying what is expected.</summary>
    public static Digest Parse(string text) => TryParse(text, out var d) ? d : ThrowBad(text);

    /// <summary>True for a blob file name: exactly 64 lowercase hex digits.</summary>
    public static bool IsLowerHex(ReadOnlySpan<char> hex)
    {
        if (hex.Length != HexLength) return false;
        foreach (char c in hex)
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f'))) return false;
        return true;
    }

    /// <summary>The digest of a blob file name (64 hex digits), for walking blobs/sha256/.</summary>
    public static Digest FromHex(string hex) => IsLowerHex(hex) ? new Digest(hex) : ThrowBad(hex);

    [DoesNotReturn]
    static Digest ThrowBad(string text) => throw new StoreException(StoreFailure.BadReference,
        $"'{text}' is not a digest: expected sha256: followed by 64 lowercase hex digits (see 'llcuda storage list')");
}

using System.Security.Cryptography;

namespace LlCuda.Storage.Remotes;

/// <summary>Checks and computes "sha256:&lt;64 lowercase hex&gt;" digests, the only algorithm llcuda stores.</summary>
public static class Sha256Digest
{
    public const string Prefix = "sha256:";

    /// <summary>True for "sha256:" followed by exactly 64 lowercase hex digits.</summary>
    public static bool IsValid(string? digest)
    {
        if (digest is null || digest.Length != Prefix.Length + 64 || !digest.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        foreach (char c in digest.AsSpan(Prefix.Length))
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f'))) return false;
        return true;
    }

    /// <summary>Throws an ArgumentException that shows the expected form when <paramref name="digest"/> is not valid.</summary>
    public static void Check(string digest, string paramName = "digest")
    {
        if (!IsValid(digest))
            throw new ArgumentException(
                $"digest '{digest}' is not of the form sha256:<64 lowercase hex digits> (copy it from the manifest or 'sha256sum' output)",
                paramName);
    }

    /// <summary>The 64 hex digits after "sha256:".</summary>
    public static string Hex(string digest) { Check(digest); return digest[Prefix.Length..]; }

    public static string Of(ReadOnlySpan<byte> bytes) => Prefix + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string FromHash(ReadOnlySpan<byte> hash) => Prefix + Convert.ToHexStringLower(hash);
}

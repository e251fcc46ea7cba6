namespace LlCuda.Cli.Hosting;

/// <summary>Process exit codes of every llcuda command (sysexits.h where one fits).</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>A generic failure that has no more specific code.</summary>
    public const int Failure = 1;
    /// <summary>Bad command line: unknown option, missing or invalid value.</summary>
    public const int Usage = 2;
    /// <summary>
    /// A command over many items (batch) finished, but some items were bad or failed; the rest
    /// succeeded and its summary says how many of each.
    /// </summary>
    public const int PartialFailure = 3;
    /// <summary>The input data is malformed (a corrupt GGUF file, an invalid token id).</summary>
    public const int DataError = 65;
    /// <summary>An input file does not exist or cannot be read.</summary>
    public const int NoInput = 66;
    /// <summary>The model or feature is not supported by this build.</summary>
    public const int Unsupported = 69;
    /// <summary>A bug in llcuda: the message says what failed.</summary>
    public const int Internal = 70;
    /// <summary>An output file could not be written.</summary>
    public const int CannotWrite = 73;
    /// <summary>Stopped by SIGINT or SIGTERM (128 + SIGINT, what shells report).</summary>
    public const int Interrupted = 130;
}

using LlCuda.Cuda;
using LlCuda.Gguf;
using LlCuda.LlamaCpp;
using LlCuda.Storage;

namespace LlCuda.Cli.Hosting;

/// <summary>
/// Runs a command body and turns every failure into one line on standard error and a named
/// exit code: no stack traces for bad input, and no crash for anything else
/// (LLCUDA_DEBUG=1 adds the stack trace of unexpected errors).
/// </summary>
public static class CommandRunner
{
    public static int Run(CliConsole console, Func<int> body)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return body();
        }
        catch (GgufFormatException e) { return Fail(console, e.Message, ExitCodes.DataError); }
        catch (StoreException e) { return Fail(console, e.Message, StoreExitCode(e.Failure)); }
        // A registry or filer that failed after its retries: the message names it and what to do.
        catch (LlCuda.Storage.Remotes.RemoteStorageException e) { return Fail(console, e.Message, ExitCodes.Failure); }
        catch (FileNotFoundException e) { return Fail(console, e.Message, ExitCodes.NoInput); }
        catch (DirectoryNotFoundException e) { return Fail(console, e.Message, ExitCodes.NoInput); }
        catch (UnauthorizedAccessException e) { return Fail(console, e.Message, ExitCodes.NoInput); }
        catch (LlamaCppException e) { return Fail(console, e.Message, LlamaCppExitCode(e.Failure)); }
        // A CUDA library that is not installed is an environment problem, like a missing libllama.
        catch (CudaException e) { return Fail(console, e.Message, e.IsLibraryMissing ? ExitCodes.Unsupported : ExitCodes.Failure); }
        catch (OperationCanceledException e) { return Fail(console, e.Message, ExitCodes.Interrupted); }
        catch (UsageException e) { return Fail(console, e.Message, ExitCodes.Usage); }
        catch (ArgumentException e) { return Fail(console, e.Message.Split(" (Parameter")[0], ExitCodes.Usage); }
        catch (NotSupportedException e) { return Fail(console, e.Message, ExitCodes.Unsupported); }
        catch (IOException e) { return Fail(console, e.Message, ExitCodes.CannotWrite); }
        catch (Exception e)
        {
            string detail = Environment.GetEnvironmentVariable("LLCUDA_DEBUG") == "1" ? $"\n{e}" : " (set LLCUDA_DEBUG=1 for details)";
            return Fail(console, $"internal error: {e.GetType().Name}: {e.Message}{detail}", ExitCodes.Internal);
        }
    }

    // A libllama that will not load is an environment problem (like a missing CUDA library);
    // a model llama.cpp rejects is bad input data; the rest are runtime failures.
    static int LlamaCppExitCode(LlamaCppFailure failure) => failure switch
    {
        LlamaCppFailure.Library => ExitCodes.Unsupported,
        LlamaCppFailure.Model => ExitCodes.DataError,
        _ => ExitCodes.Failure,
    };

    static int StoreExitCode(StoreFailure failure) => failure switch
    {
        StoreFailure.BadReference => ExitCodes.Usage,
        StoreFailure.NotFound => ExitCodes.NoInput,
        StoreFailure.Corrupt => ExitCodes.DataError,
        _ => ExitCodes.Failure,
    };

    static int Fail(CliConsole console, string message, int code)
    {
        console.WriteError(message);
        return code;
    }
}

/// <summary>A command-line value that parsed but makes no sense (the message says which and why).</summary>
public sealed class UsageException : Exception
{
    public UsageException() { }
    public UsageException(string message) : base(message) { }
    public UsageException(string message, Exception inner) : base(message, inner) { }
}

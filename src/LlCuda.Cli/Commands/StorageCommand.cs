using System.CommandLine;
using LlCuda.Cli.Hosting;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda storage ...`: the local content-addressed model store under $LLCUDA_HOME
/// (default ~/.llcuda). Each subcommand lives in its own Storage*Command.cs file.
/// </summary>
internal static class StorageCommand
{
    public static Command Create(CliConsole console)
    {
        var storage = new Command("storage", "Keep models in the local content-addressed store ($LLCUDA_HOME, default ~/.llcuda)");
        storage.Subcommands.Add(StoragePutCommand.Create(console));
        storage.Subcommands.Add(StorageGetCommand.Create(console));
        storage.Subcommands.Add(StorageListCommand.Create(console));
        storage.Subcommands.Add(StorageRmCommand.Create(console));
        storage.Subcommands.Add(StorageGcCommand.Create(console));
        storage.Subcommands.Add(StorageVerifyCommand.Create(console));
        storage.Subcommands.Add(StoragePinCommand.Create(console, pin: true));
        storage.Subcommands.Add(StoragePinCommand.Create(console, pin: false));
        storage.Subcommands.Add(StorageSyncCommands.Push(console));
        storage.Subcommands.Add(StorageSyncCommands.Pull(console));
        return storage;
    }
}

using LlCuda.Cli;
using LlCuda.Cli.Hosting;

return LlCudaCli.Run(args, CliConsole.System());

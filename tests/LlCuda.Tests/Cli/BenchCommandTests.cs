using System.Text.Json;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

public class BenchCommandTests
{
    [Fact]
    public void BenchJson_ReportsPpAndTgRowsWithOneSamplePerRepetition()
    {
        var r = CliRunner.InProcess("bench", "-m", TestPaths.Stories260K, "-p", "16", "-n", "4", "-r", "2", "-t", "1", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("pp_tps").GetDouble() > 0);
        Assert.True(root.GetProperty("tg_tps").GetDouble() > 0);
        var rows = root.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(["pp16", "tg4"], rows.Select(x => x.GetProperty("test").GetString()));
        Assert.All(rows, row =>
        {
            Assert.Equal(2, row.GetProperty("samples").GetArrayLength());
            Assert.Equal("CPU", row.GetProperty("backend").GetString());
            Assert.Equal(1, row.GetProperty("threads").GetInt32());
        });
    }

    [Fact]
    public void BenchTable_HasLlamaBenchColumns()
    {
        var r = CliRunner.InProcess("bench", "-m", TestPaths.Stories260K, "-p", "8", "-n", "0", "-r", "1");
        Assert.Equal(0, r.ExitCode);
        foreach (var column in new[] { "model", "size", "params", "backend", "threads", "test", "t/s", "pp8", "±" })
            Assert.Contains(column, r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_ZeroRepetitions_IsAUsageError()
    {
        var r = CliRunner.InProcess("bench", "-m", TestPaths.Stories260K, "-r", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("-r 0 is out of range", r.Stderr, StringComparison.Ordinal);
    }
}

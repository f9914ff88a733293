using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using OAuthSidecar.Benchmarks;

// dotnet run -c Release --project tests/OAuthSidecar.Benchmarks -- [process|micro|all] [--quick] [--only cold-start,round-trip,...] [--write docs/PERFORMANCE.md]
int onlyAt = Array.IndexOf(args, "--only");
string[]? only = onlyAt >= 0 && onlyAt + 1 < args.Length ? args[onlyAt + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;
string mode = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (onlyAt < 0 || i != onlyAt + 1)).FirstOrDefault() ?? "all";
bool quick = args.Contains("--quick");
string root = FindRoot();

if (mode is "flow-memory")
{
    Console.WriteLine(await FlowMemory.RunAsync(10_000));
    return;
}

if (mode is "micro" or "all")
{
    IConfig config = DefaultConfig.Instance.AddJob(Job.ShortRun).WithOptions(ConfigOptions.DisableOptimizationsValidator);
    BenchmarkRunner.Run<Micro>(config, []);
}

if (mode is "process" or "all")
{
    string table = await new Harness(root, quick, only).RunAsync();
    Console.WriteLine();
    Console.WriteLine(table);
    int write = Array.IndexOf(args, "--write");
    if (write >= 0 && write + 1 < args.Length)
    {
        string path = Path.GetFullPath(args[write + 1], root);
        string document = File.Exists(path) ? File.ReadAllText(path) : string.Empty;
        const string Begin = "<!-- results:begin -->";
        const string End = "<!-- results:end -->";
        string block = $"{Begin}\nMeasured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}.\n\n{table}{End}";
        int b = document.IndexOf(Begin, StringComparison.Ordinal);
        int e = document.IndexOf(End, StringComparison.Ordinal);
        document = b >= 0 && e > b ? document[..b] + block + document[(e + End.Length)..] : document + "\n" + block + "\n";
        File.WriteAllText(path, document);
        Console.Error.WriteLine($"Wrote {path}");
    }
}

static string FindRoot()
{
    string? dir = AppContext.BaseDirectory;
    while (dir is not null && !File.Exists(Path.Combine(dir, "OAuthSidecar.sln")))
    {
        dir = Path.GetDirectoryName(dir);
    }

    return dir ?? Directory.GetCurrentDirectory();
}

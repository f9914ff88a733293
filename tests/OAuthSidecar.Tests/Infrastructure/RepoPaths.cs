using System.Reflection;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>Where the repository, the sidecar and the test provider are.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The command that starts the sidecar: <c>OAUTH_SIDECAR_PATH</c> (an executable, or a .dll run by dotnet) when
    /// set — CI points it at the NativeAOT binary — else the dll built with this test project.
    /// </summary>
    public static (string FileName, string[] Arguments) SidecarCommand()
    {
        string? overridePath = Environment.GetEnvironmentVariable("OAUTH_SIDECAR_PATH");
        if (!string.IsNullOrEmpty(overridePath))
        {
            string full = Path.GetFullPath(overridePath, Root);
            return full.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? ("dotnet", [full]) : (full, []);
        }

        string configuration = typeof(RepoPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string dll = Path.Combine(Root, "src", "OAuthSidecar", "bin", configuration, "net10.0", "oauth-sidecar.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The sidecar is not built at {dll}. Run dotnet build first.");
        }

        return ("dotnet", [dll]);
    }

    private static string FindRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "OAuthSidecar.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("The repository root (with OAuthSidecar.sln) was not found above " + AppContext.BaseDirectory);
    }
}

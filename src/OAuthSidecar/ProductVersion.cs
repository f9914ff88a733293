using System.Reflection;

namespace OAuthSidecar;

/// <summary>
/// The sidecar's version, the one number of a release: <c>&lt;Version&gt;</c> in <c>Directory.Build.props</c>, which
/// the build stamps into the assembly. <c>--version</c>, <c>initialize</c>'s <c>serverInfo.version</c>, the schema's
/// <c>info.version</c> and every package <c>npm run release</c> builds carry it.
/// </summary>
internal static class ProductVersion
{
    /// <summary>Gets the version, e.g. <c>0.1.0</c> or <c>0.2.0-beta.1</c> (SemVer 2.0, without build metadata).</summary>
    public static string Current { get; } = Read();

    private static string Read()
    {
        // The informational version keeps a pre-release suffix (the assembly version cannot); the SDK appends
        // "+<commit>" to it, which is not part of the release's number.
        string? informational = typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (!string.IsNullOrEmpty(informational))
        {
            int plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? informational : informational[..plus];
        }

        return typeof(ProductVersion).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    }
}

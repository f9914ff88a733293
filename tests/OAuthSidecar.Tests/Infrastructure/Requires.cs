namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>
/// What a test needs from the machine. Outside CI a missing tool skips the test with the reason (reported and counted
/// as skipped, never as passed); in CI (<c>CI</c> set, as <c>.ci/run</c> does), where every tool is installed, a
/// missing tool fails the test instead.
/// </summary>
public static class Requires
{
    /// <summary>Gets a value indicating whether this is a CI run (<c>CI</c> set to anything but <c>false</c> or <c>0</c>).</summary>
    public static bool InCI => Environment.GetEnvironmentVariable("CI") is { Length: > 0 } ci && ci is not ("false" or "0");

    /// <summary>Finds a program; skips the test (fails it in CI) when none of <paramref name="names"/> is installed.</summary>
    /// <param name="why">What the test uses it for, e.g. "the real client of the fragment bridge page".</param>
    /// <param name="names">Program names looked up on PATH (or absolute paths), first found wins.</param>
    /// <returns>The full path of the program.</returns>
    public static string Tool(string why, params string[] names)
    {
        foreach (string name in names)
        {
            if (Find(name) is { } path)
            {
                return path;
            }
        }

        string reason = $"{names[0]} is not installed ({why}).";
        if (InCI)
        {
            Assert.Fail(reason + " CI must have it: .ci/run installs it.");
        }

        throw Xunit.Sdk.SkipException.ForSkip(reason); // what Assert.Skip throws
    }

    /// <summary>Finds several programs a test needs together (see <see cref="Tool"/>).</summary>
    /// <param name="why">What the test uses them for.</param>
    /// <param name="names">Program names, each required.</param>
    public static void Tools(string why, params string[] names)
    {
        foreach (string name in names)
        {
            Tool(why, name);
        }
    }

    private static string? Find(string name)
    {
        if (Path.IsPathRooted(name))
        {
            return File.Exists(name) ? name : null;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

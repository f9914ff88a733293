using System.Collections.Concurrent;

namespace OAuthSidecar.TestSupport;

/// <summary>
/// Temporary directories of this test run (credential stores, keyring sessions, launch pages, certificates), deleted
/// with everything in them when the test process ends, so a run leaves no test tokens or keys in the temp folder.
/// Compiled into both test projects.
/// </summary>
internal static class TestTemp
{
    private static readonly ConcurrentBag<string> Created = [];

    static TestTemp() => AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteAll();

    /// <summary>Creates a new directory under the temp folder whose name starts with <paramref name="prefix"/> (as <see cref="Directory.CreateTempSubdirectory"/>).</summary>
    public static DirectoryInfo CreateDirectory(string prefix)
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory(prefix);
        Created.Add(directory.FullName);
        return directory;
    }

    private static void DeleteAll()
    {
        foreach (string path in Created)
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A socket or a file still held by a process that outlives the run: the rest is still deleted.
            }
        }
    }
}

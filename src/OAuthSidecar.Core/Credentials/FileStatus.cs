using System.Runtime.InteropServices;

namespace OAuthSidecar.Core.Credentials;

/// <summary>What kind of file a path names.</summary>
public enum FileKind
{
    /// <summary>Nothing exists there.</summary>
    Missing,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>Anything else: a FIFO, a socket, a device, a symbolic link.</summary>
    Other,
}

/// <summary>The owner, mode and kind of a path (without following a final symbolic link).</summary>
/// <param name="Kind">The kind of file.</param>
/// <param name="OwnerId">The owner's user id.</param>
/// <param name="Mode">The permission bits (e.g. 0600 = 384).</param>
public readonly record struct FileStatus(FileKind Kind, uint OwnerId, int Mode)
{
    private const int GroupOrOtherWrite = 0b000_010_010; // 0022

    /// <summary>Gets a value indicating whether users other than the owner may write it (group or other write bit).</summary>
    public bool WritableByOthers => (this.Mode & GroupOrOtherWrite) != 0;

    /// <summary>Gets the effective user id of this process, or <see langword="null"/> on Windows.</summary>
    public static uint? CurrentUserId => OperatingSystem.IsWindows() ? null : FileStatusNative.geteuid();

    /// <summary>
    /// Reads the status of <paramref name="path"/>: <c>statx(2)</c> on Linux (its layout is the same on every
    /// architecture), <c>lstat(2)</c> on macOS. <see langword="null"/> where ownership is not a Unix notion (Windows).
    /// </summary>
    /// <param name="path">The path.</param>
    /// <returns>The status, or <see langword="null"/> on Windows and other platforms.</returns>
    /// <exception cref="IOException">The path could not be examined (other than not existing).</exception>
    public static FileStatus? Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsLinux())
        {
            return OfLinux(path);
        }

        if (OperatingSystem.IsMacOS())
        {
            return OfMac(path);
        }

        return null;
    }

    private static unsafe FileStatus? OfLinux(string path)
    {
        const int AtFdCwd = -100;
        const int AtSymlinkNoFollow = 0x100;
        const uint StatxBasicStats = 0x7ff;
        byte* buffer = stackalloc byte[256]; // struct statx is 256 bytes
        if (FileStatusNative.statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            return Missing(path);
        }

        uint uid = *(uint*)(buffer + 20); // stx_uid
        ushort mode = *(ushort*)(buffer + 28); // stx_mode
        return FromMode(uid, mode);
    }

    private static unsafe FileStatus? OfMac(string path)
    {
        byte* buffer = stackalloc byte[256]; // struct stat (64-bit inodes) is 144 bytes
        if (FileStatusNative.lstat(path, buffer) != 0)
        {
            return Missing(path);
        }

        ushort mode = *(ushort*)(buffer + 4); // st_mode after dev_t st_dev
        uint uid = *(uint*)(buffer + 16); // st_uid after st_nlink and st_ino
        return FromMode(uid, mode);
    }

    private static FileStatus FromMode(uint uid, ushort mode)
    {
        FileKind kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            _ => FileKind.Other,
        };
        return new FileStatus(kind, uid, mode & 0xFFF);
    }

    private static FileStatus Missing(string path)
    {
        int error = Marshal.GetLastPInvokeError();
        const int NoEntry = 2, NotDirectory = 20;
        return error is NoEntry or NotDirectory
            ? new FileStatus(FileKind.Missing, 0, 0)
            : throw new IOException($"{path} could not be examined (errno {error}).");
    }
}

/// <summary>The libc calls of <see cref="FileStatus"/>.</summary>
internal static unsafe partial class FileStatusNative
{
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int statx(int dirfd, string pathname, int flags, uint mask, byte* statxbuf);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int lstat(string pathname, byte* buf);

    [LibraryImport("libc")]
    internal static partial uint geteuid();
}

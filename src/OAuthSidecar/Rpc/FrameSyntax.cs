using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>How messages are delimited on stdio.</summary>
public enum Framing
{
    /// <summary>The LSP base protocol: <c>Content-Length: N\r\n\r\n</c> then N bytes of UTF-8 JSON.</summary>
    Lsp,

    /// <summary>One JSON message per line (for shell scripts and <c>jq</c>).</summary>
    Newline,
}

/// <summary>
/// The byte-level syntax of frames for <see cref="StdioMessageHandler"/>: blank input, the LSP <c>Content-Length</c>
/// header (read as bytes, without strings), and the <c>id</c> of a message that could not be deserialized (so its
/// error answer carries it).
/// </summary>
internal static class FrameSyntax
{
    /// <summary>The longest header accepted (bytes); a header that spans buffer segments is copied to the stack.</summary>
    internal const int MaxHeaderBytes = 8 * 1024;

    /// <summary>Returns whether <paramref name="bytes"/> holds only spaces, tabs and line breaks.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns><see langword="true"/> when blank.</returns>
    internal static bool IsWhiteSpace(ReadOnlySequence<byte> bytes)
    {
        foreach (ReadOnlyMemory<byte> segment in bytes)
        {
            foreach (byte b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Reads the <c>Content-Length</c> of an LSP header (LSP base protocol): a whole, unsigned number of bytes.</summary>
    /// <param name="header">The header lines, without the blank line.</param>
    /// <param name="length">The length, or -1.</param>
    /// <returns><see langword="true"/> when a valid length was found.</returns>
    internal static bool TryParseContentLength(ReadOnlySequence<byte> header, out long length)
    {
        // On every message: read the header lines as bytes, without building strings (the header is at most 8 KiB).
        length = -1;
        ReadOnlySpan<byte> rest = header.IsSingleSegment ? header.FirstSpan
            : header.Length <= MaxHeaderBytes ? CopyTo(header, stackalloc byte[(int)header.Length])
            : header.ToArray();
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon > 0 && Ascii.EqualsIgnoreCase(line[..colon].Trim(" \t"u8), "Content-Length"u8))
            {
                ReadOnlySpan<byte> value = line[(colon + 1)..].Trim(" \t"u8);
                if (value.IsEmpty || !Utf8Parser.TryParse(value, out length, out int consumed) || consumed != value.Length || value[0] is (byte)'-' or (byte)'+')
                {
                    length = -1;
                    return false;
                }
            }
        }

        return length >= 0;
    }

    private static ReadOnlySpan<byte> CopyTo(ReadOnlySequence<byte> bytes, Span<byte> destination)
    {
        bytes.CopyTo(destination);
        return destination;
    }

    /// <summary>Returns the <c>id</c> of a JSON-RPC message, or <see cref="RequestId.Null"/> when it has none or is not JSON.</summary>
    /// <param name="payload">The message.</param>
    /// <returns>The id.</returns>
    internal static RequestId IdOf(byte[] payload)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 256 });
            return IdOf(document.RootElement);
        }
        catch (JsonException)
        {
            return RequestId.Null;
        }
    }

    /// <summary>Returns the <c>id</c> member of a parsed message, or <see cref="RequestId.Null"/>.</summary>
    /// <param name="root">The message.</param>
    /// <returns>The id.</returns>
    internal static RequestId IdOf(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out JsonElement idElement)
            ? idElement.ValueKind switch
            {
                JsonValueKind.Number when idElement.TryGetInt64(out long n) => new RequestId(n),
                JsonValueKind.String => new RequestId(idElement.GetString()),
                _ => RequestId.Null,
            }
            : RequestId.Null;
}

using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace OAuthSidecar.Core.OAuth;

/// <summary>Proof Key for Code Exchange (RFC 7636), S256 only: <c>plain</c> is never used.</summary>
public static class Pkce
{
    /// <summary>The <c>code_challenge_method</c> value for SHA-256 (RFC 7636 §4.2).</summary>
    public const string MethodS256 = "S256";

    /// <summary>
    /// Creates a code verifier: 32 random bytes, base64url-encoded without padding, giving 43 characters from the
    /// unreserved set (RFC 7636 §4.1 recommends exactly this).
    /// </summary>
    /// <returns>The code verifier.</returns>
    public static string CreateCodeVerifier() => ProtocolRandom.Create(32);

    /// <summary>Derives the S256 code challenge: <c>BASE64URL(SHA256(ASCII(code_verifier)))</c> (RFC 7636 §4.2).</summary>
    /// <param name="codeVerifier">The code verifier, 43 to 128 characters.</param>
    /// <returns>The code challenge.</returns>
    /// <exception cref="ArgumentException">The verifier is shorter than 43 or longer than 128 characters.</exception>
    public static string CreateCodeChallenge(string codeVerifier)
    {
        ArgumentNullException.ThrowIfNull(codeVerifier);
        if (codeVerifier.Length is < 43 or > 128)
        {
            throw new ArgumentException("A code verifier has 43 to 128 characters (RFC 7636 §4.1).", nameof(codeVerifier));
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.ASCII.GetBytes(codeVerifier), hash);
        return Base64Url.EncodeToString(hash);
    }
}

/// <summary>Cryptographically random, URL-safe values for <c>state</c>, <c>nonce</c>, code verifiers and handles.</summary>
public static class ProtocolRandom
{
    /// <summary>Returns <paramref name="byteCount"/> random bytes from the OS CSPRNG, base64url-encoded without padding.</summary>
    /// <param name="byteCount">The entropy in bytes (16 gives 128 bits).</param>
    /// <returns>The encoded value.</returns>
    public static string Create(int byteCount)
    {
        Span<byte> bytes = byteCount <= 64 ? stackalloc byte[byteCount] : new byte[byteCount];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }
}

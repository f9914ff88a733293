using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>Finds private key material: in what the sidecar wrote (to refuse it) and in its stores (to look for it).</summary>
public static partial class PrivateKeyCheck
{
    /// <summary>The members of a private JWK that a public one does not have (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2: an OKP key's <c>d</c>).</summary>
    public static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    /// <summary>Fails when <paramref name="node"/> holds a JWK with a private member, or a JWT whose <c>jwk</c> header has one.</summary>
    public static void AssertNoPrivateJwk(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj.ContainsKey("kty"))
                {
                    Assert.All(PrivateMembers, m => Assert.False(obj.ContainsKey(m), $"A JWK with the private member '{m}' left the sidecar."));
                }

                foreach ((_, JsonNode? value) in obj)
                {
                    AssertNoPrivateJwk(value);
                }

                break;
            case JsonArray array:
                foreach (JsonNode? item in array)
                {
                    AssertNoPrivateJwk(item);
                }

                break;
            case JsonValue value when value.TryGetValue(out string? text) && JwtHeader(text) is { } header:
                AssertNoPrivateJwk(header);
                break;
        }
    }

    /// <summary>The PKCS#8 text and the private JWK members of every DPoP key in the file store of <paramref name="dataDirectory"/>.</summary>
    public static IEnumerable<string> StoredKeyMaterial(string? dataDirectory)
    {
        string files = dataDirectory is null ? string.Empty : Path.Combine(dataDirectory, "credentials");
        if (dataDirectory is null || !Directory.Exists(files))
        {
            return [];
        }

        return Directory.GetFiles(files, "*.json").SelectMany(f => KeyMaterialIn(File.ReadAllText(f))).ToList();
    }

    /// <summary>
    /// The PKCS#8 text (as is and JSON-escaped) and the private JWK members of every stored DPoP key
    /// (<c>"pkcs8":"…"</c>) in <paramref name="text"/>: a stored item, or <c>secret-tool</c>'s listing of the keyring.
    /// </summary>
    public static IEnumerable<string> KeyMaterialIn(string text)
    {
        foreach (string item in Readable(text))
        {
            foreach (Match match in Pkcs8Member().Matches(item))
            {
                string pkcs8 = JsonNode.Parse("\"" + match.Groups[1].Value + "\"")!.GetValue<string>();
                yield return pkcs8;
                yield return System.Text.Json.JsonSerializer.Serialize(pkcs8).Trim('"');
                foreach (string member in PrivateParts(Convert.FromBase64String(pkcs8)))
                {
                    yield return member;
                }
            }
        }
    }

    /// <summary>
    /// <paramref name="text"/>, and the decoded secrets of a <c>secret-tool search</c> listing (MSAL keeps each
    /// keyring item's bytes base64-encoded as the secret).
    /// </summary>
    public static IEnumerable<string> Readable(string text)
    {
        yield return text;
        foreach (Match line in SecretLine().Matches(text))
        {
            string? decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(line.Groups[1].Value.Trim()));
            }
            catch (FormatException)
            {
                decoded = null;
            }

            if (decoded is not null)
            {
                yield return decoded;
            }
        }
    }

    /// <summary>
    /// The private parts of a PKCS#8 key, base64url as a JWK writes them: an EC key's <c>d</c>, an RSA key's
    /// <c>d p q dp dq qi</c>, an Ed25519 key's <c>d</c> (its 32-byte seed, RFC 8037 §2; read with BouncyCastle, .NET
    /// has no Ed25519) and, for the seed, its plain base64 and the 64-byte seed-and-public-key form other libraries
    /// (libsodium, NaCl) call the private key.
    /// </summary>
    /// <exception cref="InvalidOperationException">A key of none of these kinds: the sweep must not silently skip it.</exception>
    public static IEnumerable<string> PrivateParts(byte[] pkcs8)
    {
        using var ec = ECDsa.Create();
        try
        {
            ec.ImportPkcs8PrivateKey(pkcs8, out _);
            return [Base64Url.EncodeToString(ec.ExportParameters(true).D)];
        }
        catch (CryptographicException)
        {
        }

        using var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(pkcs8, out _);
            RSAParameters p = rsa.ExportParameters(true);
            return new[] { p.D, p.P, p.Q, p.DP, p.DQ, p.InverseQ }.Select(b => Base64Url.EncodeToString(b!)).ToList();
        }
        catch (CryptographicException)
        {
        }

        if (Org.BouncyCastle.Security.PrivateKeyFactory.CreateKey(pkcs8) is Org.BouncyCastle.Crypto.Parameters.Ed25519PrivateKeyParameters ed25519)
        {
            byte[] seed = ed25519.GetEncoded();
            return [Base64Url.EncodeToString(seed), Convert.ToBase64String(seed), Base64Url.EncodeToString([.. seed, .. ed25519.GeneratePublicKey().GetEncoded()])];
        }

        throw new InvalidOperationException("A stored DPoP key is neither EC, RSA nor Ed25519: the private key sweep cannot read it.");
    }

    private static JsonNode? JwtHeader(string text)
    {
        string[] parts = text.Split('.');
        if (parts.Length != 3 || parts[0].Length < 10)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0])));
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex("\"pkcs8\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"", RegexOptions.CultureInvariant)]
    private static partial Regex Pkcs8Member();

    [GeneratedRegex("^secret = (.+)$", RegexOptions.CultureInvariant | RegexOptions.Multiline)]
    private static partial Regex SecretLine();
}

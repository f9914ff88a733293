using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace OAuthSidecar.Core.Diagnostics;

/// <summary>
/// Removes secrets (access, refresh and id tokens, authorization codes, PKCE code verifiers, device codes,
/// client secrets, passwords, assertions) from text before it is logged.
/// </summary>
/// <remarks>
/// Two layers: every secret value the sidecar handles is <see cref="Register">registered</see> and replaced
/// wherever it appears, and OAuth parameter patterns (<c>code=…</c>, <c>"access_token":"…"</c>) are masked
/// even when their value was never registered. Log call sites should not pass secrets in the first place;
/// this is the safety net behind them. Thread-safe.
/// </remarks>
public sealed partial class SecretRedactor
{
    /// <summary>The text that replaces a secret.</summary>
    public const string Mask = "[redacted]";

    private const int MinimumSecretLength = 6;
    private const int MaximumRemembered = 20_000;
    private const int SubstringScanLimit = 256;

    private readonly ConcurrentDictionary<string, byte> secrets = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> order = new();

    /// <summary>Gets the number of secret values currently remembered.</summary>
    public int Count => this.secrets.Count;

    /// <summary>
    /// Remembers <paramref name="secret"/> so that it is masked in every later <see cref="Redact"/> call.
    /// Values shorter than 6 characters are ignored (masking them would destroy ordinary words).
    /// The oldest values are forgotten beyond 20,000 entries.
    /// </summary>
    /// <param name="secret">A token, code, verifier, secret or password; <see langword="null"/> is ignored.</param>
    public void Register(string? secret)
    {
        if (secret is null || secret.Length < MinimumSecretLength)
        {
            return;
        }

        if (this.secrets.TryAdd(secret, 0))
        {
            this.order.Enqueue(secret);
            while (this.secrets.Count > MaximumRemembered && this.order.TryDequeue(out string? oldest))
            {
                this.secrets.TryRemove(oldest, out _);
            }
        }
    }

    /// <summary>Returns <paramref name="text"/> with every registered secret and every secret-bearing OAuth parameter masked.</summary>
    /// <param name="text">Text about to be logged.</param>
    /// <returns>The masked text; the same instance when nothing needed masking.</returns>
    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string result = text;
        if (!this.secrets.IsEmpty)
        {
            result = this.secrets.Count <= SubstringScanLimit ? this.ReplaceSubstrings(result) : this.ReplaceTokens(result);
        }

        result = QueryParameterPattern().Replace(result, m => m.Groups[1].Value + "=" + Mask);
        result = JsonPropertyPattern().Replace(result, m => m.Groups[1].Value + "\"" + Mask + "\"");
        result = UserInfoPattern().Replace(result, m => m.Groups[1].Value + Mask + "@");
        return result;
    }

    /// <summary>Returns <paramref name="text"/> redacted, or <see langword="null"/> for <see langword="null"/>.</summary>
    /// <param name="text">Text about to leave the process, or <see langword="null"/>.</param>
    /// <returns>The masked text.</returns>
    public string? RedactOrNull(string? text) => text is null ? null : this.Redact(text);

    /// <summary>
    /// Escapes control characters (C0, DEL and C1: newlines, ANSI/OSC escape sequences) as <c>\uXXXX</c>, so that a
    /// string a server chose (a user code, an error description) cannot forge log lines or drive a terminal.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns>The text with every control character escaped; the same instance when there is none.</returns>
    public static string EscapeControl(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        var escaped = new System.Text.StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (char.IsControl(c))
            {
                escaped.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }

    // Few secrets: look for each one anywhere, even inside longer words.
    private string ReplaceSubstrings(string text)
    {
        foreach (string secret in this.secrets.Keys)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }

    // Many secrets: split the text into token-shaped words (base64url, JWT dots, padding) and look each word up,
    // so the cost grows with the text, not with the number of secrets remembered.
    private string ReplaceTokens(string text) =>
        TokenWord().Replace(text, m =>
        {
            string word = m.Value;
            if (this.secrets.ContainsKey(word) || this.secrets.ContainsKey(word.TrimEnd('=')))
            {
                return Mask;
            }

            return word.Contains('=', StringComparison.Ordinal) ? string.Join('=', word.Split('=').Select(p => this.secrets.ContainsKey(p) ? Mask : p)) : word;
        });

    [GeneratedRegex(@"[A-Za-z0-9\-._~+/=]{6,}", RegexOptions.CultureInvariant)]
    private static partial Regex TokenWord();

    // code=..., access_token=..., etc. in URLs, form bodies and free text.
    [GeneratedRegex(@"\b(code|access_token|refresh_token|id_token|code_verifier|client_secret|password|assertion|client_assertion|device_code|token|subject_token)=([^&\s""'<>]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QueryParameterPattern();

    // The user information of a URL (scheme://user:password@host): a password, or a token used as a user name.
    [GeneratedRegex(@"\b([a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@\s""'<>?#]+@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfoPattern();

    // "access_token": "..." in JSON text.
    [GeneratedRegex(@"(""(?:code|access_token|accessToken|refresh_token|refreshToken|id_token|idToken|code_verifier|codeVerifier|client_secret|clientSecret|password|assertion|client_assertion|device_code|deviceCode|proof|pkcs8)""\s*:\s*)""(?:[^""\\]|\\.)*""", RegexOptions.CultureInvariant)]
    private static partial Regex JsonPropertyPattern();
}

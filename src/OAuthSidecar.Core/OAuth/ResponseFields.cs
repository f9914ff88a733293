using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Reads the members of an authorization server's JSON answers as real servers write them: numbers also as strings
/// (Entra's v1 and B2C endpoints send <c>"expires_in": "3599"</c>), and converts a form-encoded answer (GitHub's
/// default, <c>access_token=…&amp;scope=repo%2Cgist&amp;token_type=bearer</c>) to the JSON object it stands for.
/// Nothing else is loosened: a member of the wrong kind reads as absent.
/// </summary>
public static class ResponseFields
{
    /// <summary>Returns a string member, or <see langword="null"/> when absent or not a string.</summary>
    /// <param name="json">The answer.</param>
    /// <param name="name">The member.</param>
    /// <returns>The value.</returns>
    public static string? Text(JsonElement? json, string name) =>
        json is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>
    /// Returns a whole number of seconds given as a JSON number or as a string of digits (<c>3599</c> or
    /// <c>"3599"</c>), or <see langword="null"/> when absent or not a whole number.
    /// </summary>
    /// <param name="json">The answer.</param>
    /// <param name="name">The member, e.g. <c>expires_in</c> or <c>interval</c>.</param>
    /// <returns>The value.</returns>
    public static long? Seconds(JsonElement? json, string name)
    {
        if (json is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out long n) => n,
            JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) => n,
            _ => null,
        };
    }

    /// <summary>Returns whether an answer body is form-encoded (by its content type, or a <c>text/plain</c> body shaped like a form).</summary>
    /// <param name="mediaType">The answer's media type, or <see langword="null"/>.</param>
    /// <param name="body">The body.</param>
    /// <returns><see langword="true"/> when it should be read as a form.</returns>
    public static bool IsForm(string? mediaType, string? body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.TrimStart().StartsWith('{'))
        {
            return false;
        }

        return string.Equals(mediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || (string.Equals(mediaType, "text/plain", StringComparison.OrdinalIgnoreCase) && body.Contains('=', StringComparison.Ordinal) && !body.Contains('<', StringComparison.Ordinal) && !body.Contains(' ', StringComparison.Ordinal));
    }

    /// <summary>Converts a form-encoded answer to JSON: every member a string (the first value of a repeated name).</summary>
    /// <param name="body">The form-encoded body.</param>
    /// <returns>The JSON object text.</returns>
    public static string FormToJson(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Dictionary<string, Microsoft.Extensions.Primitives.StringValues> form = QueryHelpers.ParseQuery(body.Trim());
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach ((string key, Microsoft.Extensions.Primitives.StringValues values) in form)
            {
                writer.WriteString(key, values.Count > 0 ? values[0] : string.Empty);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

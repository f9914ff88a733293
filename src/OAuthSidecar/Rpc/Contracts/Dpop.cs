using System.Text.Json;
using System.Text.Json.Serialization;

namespace OAuthSidecar.Rpc.Contracts;

/// <summary>
/// <c>createClient</c>'s <c>dpop</c>: <c>true</c> / <c>false</c>, or <c>{ "alg": "ES256" }</c> (which turns DPoP on
/// with that algorithm). Read by <see cref="DpopSettingConverter"/>.
/// </summary>
[JsonConverter(typeof(DpopSettingConverter))]
public sealed class DpopSetting
{
    /// <summary>Gets a value indicating whether DPoP is on.</summary>
    public required bool Enabled { get; init; }

    /// <summary>Gets the JWS algorithm of the keys (<c>ES256</c>, <c>ES384</c>, <c>ES512</c>, <c>RS256</c>, <c>PS256</c>), or <see langword="null"/> to let the server's metadata choose.</summary>
    public string? Alg { get; init; }
}

/// <summary>Reads and writes <see cref="DpopSetting"/>: a boolean, or an object with an optional string <c>alg</c> (nothing else).</summary>
public sealed class DpopSettingConverter : JsonConverter<DpopSetting>
{
    /// <inheritdoc/>
    public override DpopSetting Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                return new DpopSetting { Enabled = true };
            case JsonTokenType.False:
                return new DpopSetting { Enabled = false };
            case JsonTokenType.StartObject:
                string? alg = null;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    string? name = reader.TokenType == JsonTokenType.PropertyName ? reader.GetString() : null;
                    if (name != "alg" || !reader.Read() || reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                    {
                        throw new JsonException("dpop is true, false or { \"alg\": \"ES256\" } (alg a string, nothing else).");
                    }

                    alg = reader.GetString();
                }

                return new DpopSetting { Enabled = true, Alg = alg };
            default:
                throw new JsonException("dpop is true, false or { \"alg\": \"ES256\" }.");
        }
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, DpopSetting value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Alg is null)
        {
            writer.WriteBooleanValue(value.Enabled);
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("alg", value.Alg);
        writer.WriteEndObject();
    }
}

/// <summary>
/// Parameters of <c>createDpopProof</c> (addition 1.1): a DPoP proof (RFC 9449 §4, §7) for one of the caller's own
/// requests, signed with the key its tokens are bound to. The key itself never leaves the sidecar.
/// </summary>
public sealed class CreateDpopProofParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>
    /// Gets the account whose key signs the proof. By default: the key <see cref="AccessToken"/> is bound to, else
    /// the client's most recently used account's, else the client's own key (client credentials and other grants
    /// that belong to no account).
    /// </summary>
    public string? Account { get; init; }

    /// <summary>Gets the request's HTTP method (<c>htm</c>), e.g. <c>GET</c>.</summary>
    public required string Htm { get; init; }

    /// <summary>Gets the request's URL; the proof's <c>htu</c> is it without query and fragment.</summary>
    public required string Htu { get; init; }

    /// <summary>Gets the access token the request carries in <c>Authorization: DPoP …</c>; the proof then has <c>ath</c>.</summary>
    public string? AccessToken { get; init; }

    /// <summary>Gets the resource server's <c>DPoP-Nonce</c>, after it answered <c>use_dpop_nonce</c> (RFC 9449 §9).</summary>
    public string? Nonce { get; init; }
}

/// <summary>Result of <c>createDpopProof</c>.</summary>
public sealed class CreateDpopProofResult
{
    /// <summary>Gets the proof: the value of the request's <c>DPoP</c> header. Use it once (a fresh <c>jti</c> each time).</summary>
    public required string Proof { get; init; }

    /// <summary>Gets the thumbprint of the key that signed it (RFC 7638; the <c>cnf.jkt</c> of the tokens bound to it).</summary>
    public required string Jkt { get; init; }

    /// <summary>Gets until when to send it, in Unix seconds: its <c>iat</c> (the sidecar's clock) plus 60.</summary>
    public required long ExpiresAt { get; init; }
}
